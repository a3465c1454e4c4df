package store_test

import (
	"context"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// The interfaces the consumers define (bot, flows), copied here so that a
// change of signature breaks this package's build, not only theirs.
var (
	_ interface {
		Enqueue(ctx context.Context, key, route string, payload []byte) (bool, error)
		Load(ctx context.Context, route string) (cnsbot.Session, error)
		Commit(ctx context.Context, s cnsbot.Session, out []cnsbot.Outgoing) error
		Push(ctx context.Context, outs ...cnsbot.Outgoing) error
	} = (*store.Queue)(nil)
	_ interface {
		LoadToken(ctx context.Context) (cnsbot.Token, error)
		SaveToken(ctx context.Context, t cnsbot.Token) error
		Delivered(ctx context.Context, m cnsbot.Outgoing, zaloMsgID string) error
		Undeliverable(ctx context.Context, m cnsbot.Outgoing, code int, reason string) error
		Held(ctx context.Context, m cnsbot.Outgoing, until time.Time, reason string) error
		Fallback(ctx context.Context, m cnsbot.Outgoing, code int, reason string) error
	} = (*store.DB)(nil)
	_ interface {
		TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error)
	} = (*store.Locks)(nil)
	_ interface {
		Wait(ctx context.Context) error
		WaitPush(ctx context.Context) error
	} = (*store.Limiter)(nil)
	_ = store.QueueOptions{OnDead: (*store.DB)(nil).RecordDeadEvent}
)
