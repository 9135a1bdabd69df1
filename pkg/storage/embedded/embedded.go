// Package embedded provides an in-memory DynamoDB (minidyn) that speaks
// the same client API as *dynamodb.Client, so the DynamoDB store's code
// runs unchanged on it. `mtauth serve` and tests use it; it lives apart
// from package dynamo so that Lambda functions do not link it. It has no
// Time to Live: the store's own expiry checks are what make records expire.
package embedded

import (
	"context"
	"fmt"

	"github.com/truora/minidyn/aws-v2/client"

	"github.com/mtauth/mtauth/pkg/storage/dynamo"
)

// DynamoDB is the in-memory client.
type DynamoDB = client.Client

// New returns an in-memory DynamoDB holding an empty mtauth table.
func New(ctx context.Context, table string) (*DynamoDB, error) {
	api := client.NewClient()
	if err := dynamo.CreateTable(ctx, api, table); err != nil {
		return nil, fmt.Errorf("embedded dynamodb: %w", err)
	}
	return api, nil
}
