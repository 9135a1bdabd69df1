package dynamo

import (
	"context"
	"fmt"

	"github.com/truora/minidyn/aws-v2/client"
)

// Embedded is an in-memory DynamoDB (minidyn) that speaks the same client
// API as *dynamodb.Client, so the store's code runs unchanged on it. It has
// no Time to Live; expiry is enforced by the store's own checks.
type Embedded = client.Client

// NewEmbedded returns an in-memory DynamoDB holding an empty mtauth table.
func NewEmbedded(ctx context.Context, table string) (*Embedded, error) {
	api := client.NewClient()
	if err := CreateTable(ctx, api, table); err != nil {
		return nil, fmt.Errorf("embedded dynamodb: %w", err)
	}
	return api, nil
}
