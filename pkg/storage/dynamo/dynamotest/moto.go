package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mtauth/mtauth/pkg/motoserver"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
)

// SetLocalEnv points dynamo.NewClient at endpoint, with a region and
// placeholder credentials, for the rest of the test, so that whatever AWS
// settings the machine has cannot leak in. The test must not be parallel
// (t.Setenv).
func SetLocalEnv(t *testing.T, endpoint string) {
	t.Helper()
	t.Setenv(dynamo.LocalEndpointVariable, endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
}

// MotoClient returns a client of the shared moto_server (starting it if
// need be, or skipping the test as motoserver.Start says), made the way
// production makes one (dynamo.NewClient), that sends one request at a
// time (see serialHTTP). The test must not be parallel (t.Setenv); the
// client keeps its configuration after the environment is restored.
func MotoClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	SetLocalEnv(t, motoserver.Start(t))
	client, err := dynamo.NewClient(t.Context())
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.HTTPClient = &serialHTTP{next: o.HTTPClient}
	})
}

// NewTable creates a uniquely named mtauth table, dropped when the test
// ends, so that every test starts from an empty table on the shared
// server.
func NewTable(t *testing.T, api *dynamodb.Client) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails
	name := "mtauth-" + hex.EncodeToString(b)
	if err := dynamo.CreateTable(t.Context(), api, name); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := api.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &name}); err != nil {
			t.Logf("DeleteTable %s: %v", name, err)
		}
	})
	return name
}

// serialHTTP sends one request at a time. moto_server (5.x) serves
// requests on concurrent threads but does not isolate TransactWriteItems:
// each transaction deep-copies the table first and, if a condition fails,
// puts that copy back, undoing writes other requests committed meanwhile
// (a deleted session comes back), and the copy itself fails with HTTP 500
// ("dictionary changed size during iteration") when another request writes
// during it. DynamoDB isolates every request, which is what the store
// relies on; serializing requests gives moto that property and still lets
// the calls of concurrent mtauth requests interleave between requests,
// where the races under test are.
//
// It serializes HTTP requests, not dynamo.API calls (which an Intercept
// hook could), because that is the unit moto must see one at a time: each
// attempt of a retried call on its own, with no lock held through the
// SDK's backoff, and every request of the client, including table
// management and a test's direct calls. moto answers only after applying
// a request, so holding the lock for Do (not for reading the body) is
// enough.
type serialHTTP struct {
	mu   sync.Mutex
	next dynamodb.HTTPClient
}

func (c *serialHTTP) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next.Do(r)
}
