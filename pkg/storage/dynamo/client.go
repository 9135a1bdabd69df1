package dynamo

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Bounds on one DynamoDB call, so a request fails fast (and is answered
// "try again") well before the Lambda timeout instead of hanging.
const (
	maxAttempts    = 3
	maxBackoff     = 200 * time.Millisecond
	requestTimeout = 2 * time.Second
)

// LocalEndpointVariable is the AWS SDK's own setting for a DynamoDB endpoint
// other than AWS's, such as DynamoDB Local or moto_server.
const LocalEndpointVariable = "AWS_ENDPOINT_URL_DYNAMODB"

// NewClient returns a DynamoDB client configured the standard AWS way
// (environment, shared config, instance role). With AWS_ENDPOINT_URL_DYNAMODB
// set and no credentials or region configured, it uses placeholder ones,
// which local emulators accept, so trying mtauth locally needs no AWS setup.
func NewClient(ctx context.Context) (*dynamodb.Client, error) {
	// The SDK's buildable client keeps its defaults (including the CA
	// bundle from AWS_CA_BUNDLE), which a plain *http.Client would lose.
	httpClient := awshttp.NewBuildableClient().WithTimeout(requestTimeout)
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			standard := retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.MaxBackoff = maxBackoff
			})
			// A single-item write that meets a transaction on its item
			// fails with TransactionConflictException; trying again is safe
			// (its condition is evaluated afresh) and the SDK does not by
			// default.
			return retry.AddWithErrorCodes(standard, (&types.TransactionConflictException{}).ErrorCode())
		}),
	}
	if os.Getenv(LocalEndpointVariable) != "" {
		if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			opts = append(opts, config.WithRegion("us-east-1"))
		}
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return dynamodb.NewFromConfig(cfg), nil
}
