// Package dynamotest is test support for code that talks to DynamoDB
// through dynamo.API: an interceptor that lets a test watch, fail or
// delay every call, and clients of the shared moto_server.
//
// It is a plain package, not a _test.go file, so that the tests of every
// package can import it; production code must not (the test-support
// guard in pkg/testkit checks that no production package links it).
package dynamotest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mtauth/mtauth/pkg/storage/dynamo"
)

// Hook stands in for one call of dynamo.API. op is the name of the method
// called ("GetItem", "TransactWriteItems", ...), and call makes that call
// on the wrapped API with the context given to it. A hook may make the
// call (once, usually), not make it (a refused or hanging call), or make
// it and report an error of its own (DynamoDB applied the call but the
// reply was lost).
//
// The hook's error is what the caller gets. With it the caller gets no
// output, as from the AWS SDK's client, which never returns both; without
// it, the output of the call.
type Hook func(ctx context.Context, op string, call func(context.Context) error) error

// Intercept returns a dynamo.API that passes every call to next through
// hook. Tests wrap the database with it to count calls or inject faults;
// since every method is forwarded here, by name, a method added to
// dynamo.API cannot slip past any of them (this file stops compiling
// until it is forwarded too).
func Intercept(next dynamo.API, hook Hook) dynamo.API {
	return &interceptor{next: next, hook: hook}
}

type interceptor struct {
	next dynamo.API
	hook Hook
}

var _ dynamo.API = (*interceptor)(nil)

// intercept makes one call of the method op through the hook. It is
// generic over the method's input and output, so that each method below
// is one line.
func intercept[In, Out any](i *interceptor, op string, method func(context.Context, In, ...func(*dynamodb.Options)) (Out, error),
	ctx context.Context, in In, opts []func(*dynamodb.Options)) (Out, error) {
	var out, none Out
	err := i.hook(ctx, op, func(ctx context.Context) error {
		var err error
		out, err = method(ctx, in, opts...)
		return err
	})
	if err != nil {
		return none, err
	}
	return out, nil
}

func (i *interceptor) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return intercept(i, "GetItem", i.next.GetItem, ctx, in, opts)
}

func (i *interceptor) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return intercept(i, "PutItem", i.next.PutItem, ctx, in, opts)
}

func (i *interceptor) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return intercept(i, "UpdateItem", i.next.UpdateItem, ctx, in, opts)
}

func (i *interceptor) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return intercept(i, "DeleteItem", i.next.DeleteItem, ctx, in, opts)
}

func (i *interceptor) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return intercept(i, "Scan", i.next.Scan, ctx, in, opts)
}

func (i *interceptor) TransactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error) {
	return intercept(i, "TransactGetItems", i.next.TransactGetItems, ctx, in, opts)
}

func (i *interceptor) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return intercept(i, "TransactWriteItems", i.next.TransactWriteItems, ctx, in, opts)
}
