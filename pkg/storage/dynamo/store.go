// Package dynamo keeps mtauth's records in one DynamoDB table.
//
// Layout: one partition key, "pk", whose prefix says what the item is
// (USER#<username>, SESSION#<sha256 of id>, TOKEN#<sha256 of token>).
// Sessions and tokens carry "ttl" (epoch seconds) for DynamoDB's Time to
// Live, and every read and every condition also checks it, because TTL
// deletion lags and no local emulator deletes at all.
//
// A token is only as alive as its session and user: signing out deletes the
// one session item, and every token of it dies at that instant because each
// use of a token checks its session in the same consistent read or
// transaction. Writes that depend on other items (a new token needs a live
// session and an active user) are single TransactWriteItems calls whose
// condition checks make the dependency atomic.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mtauth/mtauth/pkg/storage"
)

// API is the part of the DynamoDB client the store calls. Both
// *dynamodb.Client and minidyn's in-memory client satisfy it, and tests
// wrap it to count calls or inject faults.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store is the DynamoDB implementation of storage.Store.
type Store struct {
	api   API
	table string
}

var _ storage.Store = (*Store)(nil)

// New returns a store that keeps its records in the named table.
func New(api API, table string) *Store {
	return &Store{api: api, table: table}
}

// CreateUser implements storage.Store.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	return s.putUser(ctx, u, expression.AttributeNotExists(expression.Name(KeyAttribute)), storage.ErrAlreadyExists)
}

// UpdateUser implements storage.Store.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) error {
	return s.putUser(ctx, u, expression.AttributeExists(expression.Name(KeyAttribute)), storage.ErrNotFound)
}

func (s *Store) putUser(ctx context.Context, u storage.User, cond expression.ConditionBuilder, onConditionFailed error) error {
	item, err := attributevalue.MarshalMap(newUserItem(u))
	if err != nil {
		return fmt.Errorf("dynamo: encode user: %w", err)
	}
	expr := mustBuild(expression.NewBuilder().WithCondition(cond))
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      item,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return fmt.Errorf("user %q: %w", u.Username, onConditionFailed)
	}
	return unavailable("PutItem", err)
}

// GetUser implements storage.Store.
func (s *Store) GetUser(ctx context.Context, username string) (storage.User, error) {
	var item userItem
	if err := s.get(ctx, userKey(username), &item); err != nil {
		return storage.User{}, err
	}
	return item.user(), nil
}

// ListUsers implements storage.Store. It scans the table; it is for
// operators' tools, never for a request path.
func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	expr := mustBuild(expression.NewBuilder().WithFilter(expression.Name("kind").Equal(expression.Value(kindUser))))
	in := &dynamodb.ScanInput{
		TableName:                 &s.table,
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	}
	var users []storage.User
	for {
		out, err := s.api.Scan(ctx, in)
		if err != nil {
			return nil, unavailable("Scan", err)
		}
		var items []userItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, fmt.Errorf("dynamo: decode users: %w", err)
		}
		for _, item := range items {
			users = append(users, item.user())
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Username < users[j].Username })
	return users, nil
}

// CreateSession implements storage.Store. The user must still be active
// when the session is written, so a user disabled mid-sign-in gets nothing.
func (s *Store) CreateSession(ctx context.Context, sess storage.Session, first storage.AccessToken, resetCounters ...string) error {
	return s.createSession(ctx, sess, first, s.deleteCounters(resetCounters)...)
}

// deleteCounters returns transaction items deleting the counters.
func (s *Store) deleteCounters(keys []string) []types.TransactWriteItem {
	items := make([]types.TransactWriteItem, len(keys))
	for i, k := range keys {
		items[i] = types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(counterKey(k))}}
	}
	return items
}

// createSession writes a session and its first token, provided the user
// is active, together with the extra items in one transaction. A failed
// condition on an extra item is ErrPreconditionFailed.
func (s *Store) createSession(ctx context.Context, sess storage.Session, first storage.AccessToken, extra ...types.TransactWriteItem) error {
	sessionPut, err := s.putNew(newSessionItem(sess))
	if err != nil {
		return err
	}
	tokenPut, err := s.putNew(newTokenItem(first))
	if err != nil {
		return err
	}
	items := append([]types.TransactWriteItem{sessionPut, tokenPut, s.userActive(sess.Username)}, extra...)
	reasons := []error{storage.ErrAlreadyExists, storage.ErrAlreadyExists}
	for range items[2:] {
		reasons = append(reasons, storage.ErrPreconditionFailed)
	}
	return s.transact(ctx, items, reasons...)
}

// GetSession implements storage.Store.
func (s *Store) GetSession(ctx context.Context, idHash string, now time.Time) (storage.Session, error) {
	var item sessionItem
	if err := s.get(ctx, sessionKey(idHash), &item); err != nil {
		return storage.Session{}, err
	}
	if !live(item.TTL, now) {
		return storage.Session{}, fmt.Errorf("session expired: %w", storage.ErrNotFound)
	}
	return item.session(idHash), nil
}

// GetAccessToken implements storage.Store.
func (s *Store) GetAccessToken(ctx context.Context, idHash string, now time.Time) (storage.AccessToken, error) {
	var item tokenItem
	if err := s.get(ctx, tokenKey(idHash), &item); err != nil {
		return storage.AccessToken{}, err
	}
	if !live(item.TTL, now) {
		return storage.AccessToken{}, fmt.Errorf("access token expired: %w", storage.ErrNotFound)
	}
	return item.token(idHash), nil
}

// ValidateAccessToken implements storage.Store: one read for the token,
// then one transactional read of its session and user, so the three are
// seen at a single instant.
func (s *Store) ValidateAccessToken(ctx context.Context, idHash string, now time.Time) (storage.AccessToken, storage.Session, error) {
	token, err := s.GetAccessToken(ctx, idHash, now)
	if err != nil {
		return storage.AccessToken{}, storage.Session{}, err
	}
	out, err := s.transactGet(ctx, []types.TransactGetItem{
		{Get: &types.Get{TableName: &s.table, Key: key(sessionKey(token.SessionIDHash))}},
		{Get: &types.Get{TableName: &s.table, Key: key(userKey(token.Username))}},
	})
	if err != nil {
		return storage.AccessToken{}, storage.Session{}, err
	}
	if len(out.Responses) != 2 || len(out.Responses[0].Item) == 0 || len(out.Responses[1].Item) == 0 {
		return storage.AccessToken{}, storage.Session{}, fmt.Errorf("access token's session or user: %w", storage.ErrNotFound)
	}
	var sess sessionItem
	var user userItem
	if err := attributevalue.UnmarshalMap(out.Responses[0].Item, &sess); err != nil {
		return storage.AccessToken{}, storage.Session{}, fmt.Errorf("dynamo: decode session: %w", err)
	}
	if err := attributevalue.UnmarshalMap(out.Responses[1].Item, &user); err != nil {
		return storage.AccessToken{}, storage.Session{}, fmt.Errorf("dynamo: decode user: %w", err)
	}
	if !live(sess.TTL, now) || storage.UserStatus(user.Status) != storage.UserActive {
		return storage.AccessToken{}, storage.Session{}, fmt.Errorf("access token's session expired or user inactive: %w", storage.ErrNotFound)
	}
	return token, sess.session(token.SessionIDHash), nil
}

// AddAccessToken implements storage.Store.
func (s *Store) AddAccessToken(ctx context.Context, t storage.NewToken, now time.Time) error {
	touch := mustBuild(expression.NewBuilder().
		WithCondition(liveCondition(now).And(expression.Name("username").Equal(expression.Value(t.Token.Username)))).
		WithUpdate(expression.Set(expression.Name(TTLAttribute), expression.Value(epoch(t.SessionExpiresAt))).
			Set(expression.Name("lastUsedAt"), expression.Value(epoch(now)))))
	tokenPut, err := s.putNew(newTokenItem(t.Token))
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		tokenPut,
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(sessionKey(t.Token.SessionIDHash)),
			ConditionExpression:       touch.Condition(),
			UpdateExpression:          touch.Update(),
			ExpressionAttributeNames:  touch.Names(),
			ExpressionAttributeValues: touch.Values(),
		}},
		s.userActive(t.Token.Username),
	}
	reasons := []error{storage.ErrAlreadyExists, storage.ErrPreconditionFailed, storage.ErrPreconditionFailed}
	if t.PresentedTokenHash != "" {
		items = append(items, s.liveCheck(tokenKey(t.PresentedTokenHash), now))
		reasons = append(reasons, storage.ErrPreconditionFailed)
	}
	return s.transact(ctx, items, reasons...)
}

// DeleteAccessToken implements storage.Store.
func (s *Store) DeleteAccessToken(ctx context.Context, t storage.AccessToken, now time.Time) error {
	return s.transact(ctx, []types.TransactWriteItem{
		s.deleteLive(tokenKey(t.IDHash), now),
		s.liveCheck(sessionKey(t.SessionIDHash), now),
		s.userActive(t.Username),
	}, storage.ErrPreconditionFailed, storage.ErrPreconditionFailed, storage.ErrPreconditionFailed)
}

// DeleteSession implements storage.Store. Tokens of the session are left
// for TTL to remove: none of them passes a check without the session.
func (s *Store) DeleteSession(ctx context.Context, sess storage.Session, presentedTokenHash string, now time.Time) error {
	items := []types.TransactWriteItem{s.deleteLive(sessionKey(sess.IDHash), now), s.userActive(sess.Username)}
	if presentedTokenHash != "" {
		items = append(items, s.liveCheck(tokenKey(presentedTokenHash), now))
	}
	return s.transact(ctx, items, storage.ErrPreconditionFailed, storage.ErrPreconditionFailed, storage.ErrPreconditionFailed)
}

// CreateOneTimeToken implements storage.Store: a single PutItem, or with
// counters to reset, one transaction putting the token and deleting them.
func (s *Store) CreateOneTimeToken(ctx context.Context, t storage.OneTimeToken, resetCounters ...string) error {
	if len(resetCounters) > 0 {
		put, err := s.putNew(newOneTimeItem(t))
		if err != nil {
			return err
		}
		return s.transact(ctx, append([]types.TransactWriteItem{put}, s.deleteCounters(resetCounters)...), storage.ErrAlreadyExists)
	}
	item, err := attributevalue.MarshalMap(newOneTimeItem(t))
	if err != nil {
		return fmt.Errorf("dynamo: encode one-time token: %w", err)
	}
	expr := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(KeyAttribute))))
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return fmt.Errorf("one-time token: %w", storage.ErrAlreadyExists)
	}
	return unavailable("PutItem", err)
}

// GetOneTimeToken implements storage.Store.
func (s *Store) GetOneTimeToken(ctx context.Context, idHash string, now time.Time) (storage.OneTimeToken, error) {
	var item oneTimeItem
	if err := s.get(ctx, oneTimeKey(idHash), &item); err != nil {
		return storage.OneTimeToken{}, err
	}
	if !live(item.TTL, now) {
		return storage.OneTimeToken{}, fmt.Errorf("one-time token expired: %w", storage.ErrNotFound)
	}
	return item.oneTimeToken(idHash), nil
}

// CreateSessionFromOneTimeToken implements storage.Store: the one-time
// token's conditional delete is part of the session's transaction, so the
// token is spent exactly when the session exists, and of concurrent
// exchanges only one can commit.
func (s *Store) CreateSessionFromOneTimeToken(ctx context.Context, oneTimeHash string, sess storage.Session, first storage.AccessToken, now time.Time) error {
	return s.createSession(ctx, sess, first, s.deleteLive(oneTimeKey(oneTimeHash), now))
}

// get reads one item with a strongly consistent read, so a revocation that
// has returned is never missed.
func (s *Store) get(ctx context.Context, pk string, into any) error {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return unavailable("GetItem", err)
	}
	if len(out.Item) == 0 {
		return storage.ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(out.Item, into); err != nil {
		return fmt.Errorf("dynamo: decode %s item: %w", kindOf(pk), err)
	}
	return nil
}

func (s *Store) putNew(item any) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("dynamo: encode item: %w", err)
	}
	expr := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(KeyAttribute))))
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: av,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
	}}, nil
}

func (s *Store) deleteLive(pk string, now time.Time) types.TransactWriteItem {
	expr := mustBuild(expression.NewBuilder().WithCondition(liveCondition(now)))
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: key(pk),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}
}

func (s *Store) liveCheck(pk string, now time.Time) types.TransactWriteItem {
	return s.conditionCheck(pk, liveCondition(now))
}

func (s *Store) userActive(username string) types.TransactWriteItem {
	return s.conditionCheck(userKey(username), expression.Name("status").Equal(expression.Value(string(storage.UserActive))))
}

func (s *Store) conditionCheck(pk string, cond expression.ConditionBuilder) types.TransactWriteItem {
	expr := mustBuild(expression.NewBuilder().WithCondition(cond))
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &s.table, Key: key(pk),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}
}

// transactAttempts bounds retries of a transaction that lost a race with
// another transaction on the same item (TransactionConflict), which the
// SDK does not retry itself. Conditions are evaluated afresh on each
// attempt, so retrying is always safe; backoff grows with each attempt so
// a burst of mints on one session spreads out.
const transactAttempts = 6

// transact runs the items as one transaction. onFailed[i] is the error
// returned when item i's condition fails.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem, onFailed ...error) error {
	return retryConflicts(ctx, "TransactWriteItems", func() error {
		_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var canceled *types.TransactionCanceledException
		if errors.As(err, &canceled) {
			for i, reason := range canceled.CancellationReasons {
				if aws.ToString(reason.Code) != "ConditionalCheckFailed" {
					continue
				}
				if i < len(onFailed) {
					return fmt.Errorf("%s: %w", kindOf(itemKey(items[i])), onFailed[i])
				}
				return storage.ErrPreconditionFailed
			}
		}
		return err
	})
}

// transactGet reads items in one transaction. DynamoDB cancels a
// transactional read that meets a write in progress on one of its items
// (TransactionConflict), which every sign-in and token use can cause for
// a busy user, so such reads are retried like writes.
func (s *Store) transactGet(ctx context.Context, gets []types.TransactGetItem) (*dynamodb.TransactGetItemsOutput, error) {
	var out *dynamodb.TransactGetItemsOutput
	err := retryConflicts(ctx, "TransactGetItems", func() error {
		var err error
		out, err = s.api.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets})
		return err
	})
	return out, err
}

// retryConflicts runs call until it does not fail with a cancelled
// transaction whose reasons include TransactionConflict, at most
// transactAttempts times. Errors of this package (storage sentinels) pass
// through; any other failure is wrapped as storage.ErrUnavailable.
func retryConflicts(ctx context.Context, op string, call func() error) error {
	for attempt := 1; ; attempt++ {
		err := call()
		var canceled *types.TransactionCanceledException
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &canceled):
			if errors.Is(err, storage.ErrAlreadyExists) || errors.Is(err, storage.ErrPreconditionFailed) || errors.Is(err, storage.ErrNotFound) {
				return err
			}
			return unavailable(op, err)
		}
		conflict := slices.ContainsFunc(canceled.CancellationReasons, func(r types.CancellationReason) bool {
			return aws.ToString(r.Code) == "TransactionConflict"
		})
		if !conflict || attempt == transactAttempts {
			return unavailable(op, err)
		}
		backoff := time.Duration(attempt*attempt*10+rand.IntN(20*attempt)) * time.Millisecond
		select {
		case <-ctx.Done():
			return unavailable(op, ctx.Err())
		case <-time.After(backoff):
		}
	}
}

// unavailable wraps a DynamoDB failure in storage.ErrUnavailable, keeping
// the cause for logs; nil stays nil.
func unavailable(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: dynamodb %s: %w", storage.ErrUnavailable, op, err)
}

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: pk}}
}

func itemKey(item types.TransactWriteItem) string {
	var k map[string]types.AttributeValue
	switch {
	case item.Put != nil:
		k = item.Put.Item
	case item.Update != nil:
		k = item.Update.Key
	case item.Delete != nil:
		k = item.Delete.Key
	case item.ConditionCheck != nil:
		k = item.ConditionCheck.Key
	}
	if v, ok := k[KeyAttribute].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// kindOf names the kind of record under a key, for error messages that
// must not repeat the key itself (it holds a secret's hash or a username).
func kindOf(pk string) string {
	switch {
	case strings.HasPrefix(pk, userPrefix):
		return kindUser
	case strings.HasPrefix(pk, sessionPrefix):
		return kindSession
	case strings.HasPrefix(pk, tokenPrefix):
		return kindToken
	case strings.HasPrefix(pk, oneTimePrefix):
		return kindOneTime
	case isCounterKey(pk):
		return kindCounter
	}
	return "item"
}

func liveCondition(now time.Time) expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name(KeyAttribute)).
		And(expression.Name(TTLAttribute).GreaterThan(expression.Value(epoch(now))))
}

// mustBuild builds an expression made from constants and values by this
// package; a failure is a programming error, not a runtime condition.
func mustBuild(b expression.Builder) expression.Expression {
	expr, err := b.Build()
	if err != nil {
		panic(fmt.Sprintf("dynamo: invalid expression: %v", err))
	}
	return expr
}
