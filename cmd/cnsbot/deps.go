package main

// Temporary: pins every dependency the first issues use while the packages
// that import them are written in parallel. Removed once they exist.
import (
	_ "github.com/alicebob/miniredis/v2"
	_ "github.com/caarlos0/env/v11"
	_ "github.com/cenkalti/backoff/v5"
	_ "github.com/gin-gonic/gin"
	_ "github.com/glebarez/sqlite"
	_ "github.com/go-gormigrate/gormigrate/v2"
	_ "github.com/go-redis/redis_rate/v10"
	_ "github.com/nicksnyder/go-i18n/v2/i18n"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/BurntSushi/toml"
	_ "github.com/stretchr/testify/require"
	_ "github.com/xuri/excelize/v2"
	_ "github.com/chromedp/chromedp"
	_ "golang.org/x/text/unicode/norm"
	_ "gorm.io/driver/postgres"
	_ "gorm.io/gorm"
)

func main() {}
