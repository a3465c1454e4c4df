package storetest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/store/storetest"
)

func TestPostgresSchemaIsolated(t *testing.T) {
	a := storetest.Postgres(t)
	b := storetest.Postgres(t)
	var sa, sb string
	if err := a.Raw("SELECT current_schema()").Scan(&sa).Error; err != nil {
		t.Fatal(err)
	}
	if err := b.Raw("SELECT current_schema()").Scan(&sb).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sa, "t_") || sa == sb {
		t.Fatalf("got schemas %q and %q, want two distinct t_ schemas", sa, sb)
	}
	if err := a.Exec("CREATE TABLE x (id int)").Error; err != nil {
		t.Fatal(err)
	}
	if err := b.Exec("CREATE TABLE x (id int)").Error; err != nil {
		t.Fatalf("same table in another schema: %v", err)
	}
}

func TestRedisPrefixCleanedUp(t *testing.T) {
	var prefix string
	rdbOuter, _ := storetest.Redis(t)
	t.Run("inner", func(t *testing.T) {
		rdb, p := storetest.Redis(t)
		prefix = p
		for _, k := range []string{"a", "b", "{p1}:c"} {
			if err := rdb.Set(context.Background(), p+k, "1", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
	keys, err := rdbOuter.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("got %d keys left with prefix %s, want 0", len(keys), prefix)
	}
}

func TestMiniRedis(t *testing.T) {
	rdb := storetest.MiniRedis(t)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}
