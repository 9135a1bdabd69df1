package dynamo_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mtauth/mtauth/pkg/motoserver"
	"github.com/mtauth/mtauth/pkg/storage"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
	"github.com/mtauth/mtauth/pkg/storage/dynamo/dynamotest"
	"github.com/mtauth/mtauth/pkg/storage/embedded"
	"github.com/mtauth/mtauth/pkg/storage/storagetest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

const embeddedTable = "mtauth-test"

// TestEmbedded runs the conformance suite on the in-memory DynamoDB.
func TestEmbedded(t *testing.T) {
	storagetest.RunTests(t, func(t *testing.T) storage.Store {
		api, table := openEmbedded(t)
		return dynamo.New(api, table)
	})
}

// TestMoto runs the conformance suite on moto_server, over HTTP with the
// real SDK client, one fresh table per subtest.
func TestMoto(t *testing.T) {
	api := dynamotest.MotoClient(t)
	storagetest.RunTests(t, func(t *testing.T) storage.Store {
		return dynamo.New(api, dynamotest.NewTable(t, api))
	})
}

// rawAPI is what the tests below call on a DynamoDB client directly.
type rawAPI interface {
	dynamo.API
	dynamo.TableAPI
}

type backend struct {
	name string
	// open returns a client and the name of a fresh, empty mtauth table.
	open func(t *testing.T) (rawAPI, string)
}

var backends = []backend{
	{"Embedded", func(t *testing.T) (rawAPI, string) { return openEmbedded(t) }},
	{"Moto", func(t *testing.T) (rawAPI, string) {
		api := dynamotest.MotoClient(t)
		return api, dynamotest.NewTable(t, api)
	}},
}

func openEmbedded(t *testing.T) (*embedded.DynamoDB, string) {
	t.Helper()
	api, err := embedded.New(t.Context(), embeddedTable)
	if err != nil {
		t.Fatalf("NewEmbedded: %v", err)
	}
	return api, embeddedTable
}

var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestItems checks what the table holds, which the storage interface does
// not show: the expiry DynamoDB's Time to Live acts on, and that records
// hold only what they were given.
func TestItems(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Run("TTLAttribute", func(t *testing.T) {
				api, table := b.open(t)
				testTTLAttribute(t, api, table)
			})
			t.Run("OnlyGivenValues", func(t *testing.T) {
				api, table := b.open(t)
				testOnlyGivenValues(t, api, table)
			})
			t.Run("CreateTableIdempotent", func(t *testing.T) {
				api, table := b.open(t)
				testCreateTableIdempotent(t, api, table)
			})
		})
	}
}

// TestMotoTimeToLive checks that CreateTable enables Time to Live on the
// attribute the store writes, on a backend that has it (minidyn has not).
func TestMotoTimeToLive(t *testing.T) {
	api := dynamotest.MotoClient(t)
	table := dynamotest.NewTable(t, api)
	out, err := api.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	d := out.TimeToLiveDescription
	if d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != dynamo.TTLAttribute {
		t.Fatalf("TimeToLiveDescription = %+v, want ENABLED on %q", d, dynamo.TTLAttribute)
	}
}

func testTTLAttribute(t *testing.T, api rawAPI, table string) {
	ctx := t.Context()
	s := dynamo.New(api, table)
	user := testUser("alice")
	mustDo(t, s.CreateUser(ctx, user), "CreateUser")
	sess, first := testSession("alice")
	mustDo(t, s.CreateSession(ctx, sess, first), "CreateSession")

	checkTTL(t, api, table, "SESSION#"+sess.IDHash, sess.ExpiresAt)
	checkTTL(t, api, table, "TOKEN#"+first.IDHash, first.ExpiresAt)

	now := base.Add(10 * time.Minute)
	nt := storage.NewToken{
		Token: storage.AccessToken{IDHash: sha256Hex(randomHex(32)), SessionIDHash: sess.IDHash, Username: "alice",
			CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute)},
		SessionExpiresAt: now.Add(2 * time.Hour),
	}
	mustDo(t, s.AddAccessToken(ctx, nt, now), "AddAccessToken")
	checkTTL(t, api, table, "SESSION#"+sess.IDHash, nt.SessionExpiresAt) // moved with the session
	checkTTL(t, api, table, "TOKEN#"+nt.Token.IDHash, nt.Token.ExpiresAt)

	// A one-time token expires with itself; a counter is kept KeepFor
	// after its latest event.
	ott := storage.OneTimeToken{IDHash: sha256Hex(randomSecret()), Username: "alice", ClientID: "data-api",
		ExpiresAt: base.Add(5 * time.Minute)}
	mustDo(t, s.CreateOneTimeToken(ctx, ott), "CreateOneTimeToken")
	checkTTL(t, api, table, keyEndingIn(t, api, table, ott.IDHash), ott.ExpiresAt)
	inc := storage.CounterIncrement{Key: "user:alice", Window: 10 * time.Minute, KeepFor: 24 * time.Hour}
	for _, at := range []time.Time{now, now.Add(time.Minute)} {
		_, err := s.IncrementCounters(ctx, []storage.CounterIncrement{inc}, at)
		mustDo(t, err, "IncrementCounters")
		checkTTL(t, api, table, keyEndingIn(t, api, table, inc.Key), at.Add(inc.KeepFor))
	}

	// Users do not expire: a ttl on them would let DynamoDB delete accounts.
	item := getItem(t, api, table, "USER#alice")
	if v, ok := item[dynamo.TTLAttribute]; ok {
		t.Errorf("user item has %s = %#v, want none", dynamo.TTLAttribute, v)
	}
}

// keyEndingIn returns the key of the one item whose key ends in "#"+suffix,
// for records whose key prefix the package does not document.
func keyEndingIn(t *testing.T, api rawAPI, table, suffix string) string {
	t.Helper()
	var found []string
	for _, item := range scanAll(t, api, table) {
		if pk := stringAttr(item[dynamo.KeyAttribute]); strings.HasSuffix(pk, "#"+suffix) {
			found = append(found, pk)
		}
	}
	if len(found) != 1 {
		t.Fatalf("items with a key ending in #%s: %q, want exactly one", suffix, found)
	}
	return found[0]
}

// testOnlyGivenValues signs in with secrets known only to the test, passing
// the store their hashes, then reads every item back: each string in the
// table must be a value the test gave the store (or a documented key or
// record kind), so no secret, derived value or stray field is kept.
func testOnlyGivenValues(t *testing.T, api rawAPI, table string) {
	ctx := t.Context()
	s := dynamo.New(api, table)

	sessionSecret, tokenSecret, mintedSecret := randomSecret(), randomSecret(), randomSecret()
	user := testUser("alice")
	mustDo(t, s.CreateUser(ctx, user), "CreateUser")
	sess, first := testSession("alice")
	sess.IDHash, first.IDHash = sha256Hex(sessionSecret), sha256Hex(tokenSecret)
	first.SessionIDHash = sess.IDHash
	mustDo(t, s.CreateSession(ctx, sess, first), "CreateSession")
	now := base.Add(time.Minute)
	nt := storage.NewToken{
		Token: storage.AccessToken{IDHash: sha256Hex(mintedSecret), SessionIDHash: sess.IDHash, Username: "alice",
			CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute)},
		SessionExpiresAt:   now.Add(time.Hour),
		PresentedTokenHash: first.IDHash,
	}
	mustDo(t, s.AddAccessToken(ctx, nt, now), "AddAccessToken")

	allowed := map[string]bool{
		"USER#alice": true, "SESSION#" + sess.IDHash: true,
		"TOKEN#" + first.IDHash: true, "TOKEN#" + nt.Token.IDHash: true,
		"user": true, "session": true, "token": true, // the "kind" attribute
		sess.IDHash: true, sess.ClientID: true,
	}
	for _, v := range []string{user.ID, user.Username, user.DisplayName, user.Email, string(user.Status),
		user.PasswordHash, user.WebServicesPasswordHash} {
		allowed[v] = true
	}
	for _, p := range user.Permissions {
		allowed[p] = true
	}
	secrets := []string{sessionSecret, tokenSecret, mintedSecret}

	items := scanAll(t, api, table)
	keys := map[string]bool{}
	for _, item := range items {
		pk := stringAttr(item[dynamo.KeyAttribute])
		keys[pk] = true
		for _, str := range stringsIn(item) {
			for _, secret := range secrets {
				if strings.Contains(str, secret) {
					t.Errorf("item %s holds a raw secret in %q", pk, str)
				}
			}
			if !allowed[str] {
				t.Errorf("item %s holds %q, which the test never gave the store", pk, str)
			}
		}
	}
	for _, want := range []string{"USER#alice", "SESSION#" + sess.IDHash, "TOKEN#" + first.IDHash, "TOKEN#" + nt.Token.IDHash} {
		if !keys[want] {
			t.Errorf("no item with key %s; keys = %v", want, keys)
		}
	}
	if len(items) != 4 {
		t.Errorf("table holds %d items, want 4 (user, session, two tokens)", len(items))
	}
}

func testCreateTableIdempotent(t *testing.T, api rawAPI, table string) {
	ctx := t.Context()
	s := dynamo.New(api, table)
	user := testUser("alice")
	mustDo(t, s.CreateUser(ctx, user), "CreateUser")
	if err := dynamo.CreateTable(ctx, api, table); err != nil {
		t.Fatalf("second CreateTable: %v, want nil", err)
	}
	got, err := s.GetUser(ctx, "alice")
	if err != nil {
		t.Fatalf("GetUser after second CreateTable (the table must be left as it is): %v", err)
	}
	if got.ID != user.ID {
		t.Errorf("GetUser after second CreateTable: ID = %q, want %q", got.ID, user.ID)
	}
}

// checkTTL checks that the item under pk has a Number ttl equal to exp in
// epoch seconds.
func checkTTL(t *testing.T, api rawAPI, table, pk string, exp time.Time) {
	t.Helper()
	item := getItem(t, api, table, pk)
	n, ok := item[dynamo.TTLAttribute].(*types.AttributeValueMemberN)
	if !ok {
		t.Errorf("%s: %s = %#v, want a Number", kindOf(pk), dynamo.TTLAttribute, item[dynamo.TTLAttribute])
		return
	}
	if want := strconv.FormatInt(exp.Unix(), 10); n.Value != want {
		t.Errorf("%s: %s = %s, want %s (%v)", kindOf(pk), dynamo.TTLAttribute, n.Value, want, exp)
	}
}

func getItem(t *testing.T, api rawAPI, table, pk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := api.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      &table,
		Key:            map[string]types.AttributeValue{dynamo.KeyAttribute: &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem %s: %v", kindOf(pk), err)
	}
	if len(out.Item) == 0 {
		t.Fatalf("GetItem %s: no item", kindOf(pk))
	}
	return out.Item
}

func scanAll(t *testing.T, api rawAPI, table string) []map[string]types.AttributeValue {
	t.Helper()
	in := &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)}
	var items []map[string]types.AttributeValue
	for {
		out, err := api.Scan(t.Context(), in)
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// stringsIn returns every string in an item: its string and binary values,
// and those inside sets, lists and maps, and the names of map entries.
func stringsIn(item map[string]types.AttributeValue) []string {
	var out []string
	var walk func(v types.AttributeValue)
	walk = func(v types.AttributeValue) {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out = append(out, v.Value)
		case *types.AttributeValueMemberSS:
			out = append(out, v.Value...)
		case *types.AttributeValueMemberB:
			out = append(out, string(v.Value))
		case *types.AttributeValueMemberBS:
			for _, b := range v.Value {
				out = append(out, string(b))
			}
		case *types.AttributeValueMemberL:
			for _, e := range v.Value {
				walk(e)
			}
		case *types.AttributeValueMemberM:
			for k, e := range v.Value {
				out = append(out, k)
				walk(e)
			}
		}
	}
	for _, v := range item {
		walk(v)
	}
	return out
}

func stringAttr(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// kindOf names an item by its key's prefix, for messages.
func kindOf(pk string) string {
	kind, _, _ := strings.Cut(pk, "#")
	return strings.ToLower(kind) + " item"
}

func testUser(username string) storage.User {
	return storage.User{
		ID: "id-" + username, Username: username, DisplayName: "User " + username,
		Email: username + "@example.com", Status: storage.UserActive,
		Permissions:  []string{"sign_in_data_api"},
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: base, UpdatedAt: base,
	}
}

func testSession(username string) (storage.Session, storage.AccessToken) {
	sess := storage.Session{
		IDHash: sha256Hex(randomSecret()), Username: username, ClientID: "data-api", Remember: true,
		CreatedAt: base, LastUsedAt: base, ExpiresAt: base.Add(time.Hour),
	}
	first := storage.AccessToken{
		IDHash: sha256Hex(randomSecret()), SessionIDHash: sess.IDHash, Username: username,
		CreatedAt: base, ExpiresAt: base.Add(15 * time.Minute),
	}
	return sess, first
}

// randomSecret returns a secret shaped like mtauth's: 32 random bytes,
// base64url.
func randomSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func mustDo(t *testing.T, err error, op string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}
