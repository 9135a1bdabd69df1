package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mtauth/mtauth/pkg/storage"
)

// GetUserAndCounters implements storage.Store with one TransactGetItems,
// so sign-in reads the user and both lockout counters in a single round
// trip and a consistent snapshot.
func (s *Store) GetUserAndCounters(ctx context.Context, username string, counterKeys []string) (storage.User, bool, []storage.Counter, error) {
	var gets []types.TransactGetItem
	if username != "" {
		gets = append(gets, types.TransactGetItem{Get: &types.Get{TableName: &s.table, Key: key(userKey(username))}})
	}
	for _, k := range counterKeys {
		gets = append(gets, types.TransactGetItem{Get: &types.Get{TableName: &s.table, Key: key(counterKey(k))}})
	}
	counters := make([]storage.Counter, len(counterKeys))
	for i, k := range counterKeys {
		counters[i] = storage.Counter{Key: k}
	}
	if len(gets) == 0 {
		return storage.User{}, false, counters, nil
	}
	out, err := s.transactGet(ctx, gets)
	if err != nil {
		return storage.User{}, false, nil, err
	}
	if len(out.Responses) != len(gets) {
		return storage.User{}, false, nil, fmt.Errorf("%w: TransactGetItems returned %d of %d items", storage.ErrUnavailable, len(out.Responses), len(gets))
	}
	responses := out.Responses
	var user storage.User
	found := false
	if username != "" {
		found = len(responses[0].Item) > 0
		if found {
			var item userItem
			if err := attributevalue.UnmarshalMap(responses[0].Item, &item); err != nil {
				return storage.User{}, false, nil, fmt.Errorf("dynamo: decode user: %w", err)
			}
			user = item.user()
		}
		responses = responses[1:]
	}
	for i, k := range counterKeys {
		var item counterItem
		if err := attributevalue.UnmarshalMap(responses[i].Item, &item); err != nil {
			return storage.User{}, false, nil, fmt.Errorf("dynamo: decode counter: %w", err)
		}
		counters[i] = item.counter(k)
	}
	return user, found, counters, nil
}

// IncrementCounters implements storage.Store. The counters are updated
// concurrently, so counting a failure costs one round trip however many
// counters there are.
func (s *Store) IncrementCounters(ctx context.Context, incs []storage.CounterIncrement, now time.Time) ([]storage.Counter, error) {
	counters := make([]storage.Counter, len(incs))
	errs := make([]error, len(incs))
	var wg sync.WaitGroup
	for i, inc := range incs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counters[i], errs[i] = s.increment(ctx, inc, now)
		}()
	}
	wg.Wait()
	return counters, errors.Join(errs...)
}

// increment adds one to a counter whose window is open, or opens a new
// window. Each is a single conditional UpdateItem, so concurrent
// increments never lose a count; if the other case turns out to hold (a
// window closed or opened meanwhile), the other update is tried.
func (s *Store) increment(ctx context.Context, inc storage.CounterIncrement, now time.Time) (storage.Counter, error) {
	windowOpen := expression.Name("windowEnds").GreaterThan(expression.Value(epoch(now)))
	// UpdateBuilder shares its operations between copies, so each update
	// starts from a fresh one.
	keep := func() expression.UpdateBuilder {
		return expression.Set(expression.Name("lastAt"), expression.Value(epoch(now))).
			Set(expression.Name(TTLAttribute), expression.Value(epoch(now.Add(inc.KeepFor)))).
			Set(expression.Name("kind"), expression.Value(kindCounter))
	}
	add := mustBuild(expression.NewBuilder().WithCondition(windowOpen).
		WithUpdate(keep().Add(expression.Name("count"), expression.Value(1))))
	open := mustBuild(expression.NewBuilder().
		WithCondition(expression.AttributeNotExists(expression.Name(KeyAttribute)).Or(expression.Not(windowOpen))).
		WithUpdate(keep().Set(expression.Name("count"), expression.Value(1)).
			Set(expression.Name("windowEnds"), expression.Value(epoch(now.Add(inc.Window))))))
	tries := []expression.Expression{open, add, open, add}
	if inc.WindowOpen {
		tries = tries[1:]
	}
	for _, expr := range tries {
		out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: key(counterKey(inc.Key)), ReturnValues: types.ReturnValueAllNew,
			ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		})
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			continue
		} else if err != nil {
			return storage.Counter{}, unavailable("UpdateItem", err)
		}
		var item counterItem
		if err := attributevalue.UnmarshalMap(out.Attributes, &item); err != nil {
			return storage.Counter{}, fmt.Errorf("dynamo: decode counter: %w", err)
		}
		return item.counter(inc.Key), nil
	}
	return storage.Counter{}, fmt.Errorf("%w: counter kept changing under concurrent updates", storage.ErrUnavailable)
}

// DeleteCounter implements storage.Store.
func (s *Store) DeleteCounter(ctx context.Context, k string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(counterKey(k))})
	return unavailable("DeleteItem", err)
}

func isCounterKey(pk string) bool { return strings.HasPrefix(pk, counterPrefix) }
