package dynamotest_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mtauth/mtauth/pkg/storage/dynamo/dynamotest"
	"github.com/mtauth/mtauth/pkg/storage/embedded"
)

const table = "mtauth-test"

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
}

// TestInterceptForwardsEveryMethod: each method reaches the hook under its
// own name, with the caller's context, and the caller gets the output of
// the call the hook made.
func TestInterceptForwardsEveryMethod(t *testing.T) {
	raw, err := embedded.New(t.Context(), table)
	if err != nil {
		t.Fatal(err)
	}
	type ctxKey struct{}
	ctx := context.WithValue(t.Context(), ctxKey{}, "caller")
	var ops []string
	api := dynamotest.Intercept(raw, func(ctx context.Context, op string, call func(context.Context) error) error {
		if ctx.Value(ctxKey{}) != "caller" {
			t.Errorf("%s: the hook did not get the caller's context", op)
		}
		ops = append(ops, op)
		return call(ctx)
	})

	if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("a")}); err != nil {
		t.Fatal(err)
	}
	got, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("a")})
	if err != nil || len(got.Item) == 0 {
		t.Fatalf("GetItem = %v, %v; want the item put", got, err)
	}
	if _, err := api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("b"),
		UpdateExpression:          aws.String("SET v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: "1"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key("b")}); err != nil {
		t.Fatal(err)
	}
	scanned, err := api.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil || len(scanned.Items) != 1 {
		t.Fatalf("Scan = %v, %v; want one item", scanned, err)
	}
	if _, err := api.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String(table), Key: key("a")}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(table), Key: key("a")}},
	}}); err != nil {
		t.Fatal(err)
	}

	want := []string{"PutItem", "GetItem", "UpdateItem", "DeleteItem", "Scan", "TransactGetItems", "TransactWriteItems"}
	if !slices.Equal(ops, want) {
		t.Errorf("the hook saw %v, want %v", ops, want)
	}
}

// TestInterceptHookError: an error of the hook's own reaches the caller
// with no output, whether the hook made the call (applied, reply lost)
// or not (refused).
func TestInterceptHookError(t *testing.T) {
	raw, err := embedded.New(t.Context(), table)
	if err != nil {
		t.Fatal(err)
	}
	lost := errors.New("injected")
	applyThenFail := dynamotest.Intercept(raw, func(ctx context.Context, _ string, call func(context.Context) error) error {
		if err := call(ctx); err != nil {
			t.Errorf("the call itself failed: %v", err)
		}
		return lost
	})
	refuse := dynamotest.Intercept(raw, func(context.Context, string, func(context.Context) error) error { return lost })

	out, err := applyThenFail.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("a"), ReturnValues: types.ReturnValueAllOld})
	if out != nil || err != lost {
		t.Errorf("applied then failed: got %v, %v; want no output and the hook's error", out, err)
	}
	out, err = refuse.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("b")})
	if out != nil || err != lost {
		t.Errorf("refused: got %v, %v; want no output and the hook's error", out, err)
	}

	scanned, err := raw.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if len(scanned.Items) != 1 || scanned.Items[0]["pk"].(*types.AttributeValueMemberS).Value != "a" {
		t.Errorf("the table holds %v; want only the applied item a", scanned.Items)
	}
}
