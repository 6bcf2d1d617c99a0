package config_test

import (
	"fmt"
	"strings"

	"github.com/airlock-ir/airlock/internal/config"
)

// The example of docs/configuration.md: decode problems first, then, once
// the file decodes, the values out of bounds.
func ExampleParse() {
	file := `api:
  adr: 0.0.0.0:7700
  max_body_bytes: 128MB
  read_header_timeout: 10
log:
  level: verbose
`
	_, err := config.Parse([]byte(file), "airlock.yaml")
	fmt.Println(err)

	file = strings.NewReplacer("adr:", "addr:", "timeout: 10\n", "timeout: 10s\n").Replace(file)
	_, err = config.Parse([]byte(file), "airlock.yaml")
	fmt.Println(err)

	file = strings.NewReplacer("128MB", "8MiB", "verbose", "debug").Replace(file)
	cfg, err := config.Parse([]byte(file), "airlock.yaml")
	fmt.Println(cfg.API.Addr, cfg.API.MaxBodyBytes, cfg.API.ReadHeaderTimeout, cfg.Log.Level, err)
	// Output:
	// airlock.yaml: line 2: unknown key "adr" in api (did you mean "addr"?)
	// airlock.yaml: line 4: api.read_header_timeout: invalid duration "10": missing unit, e.g. "10s"
	// airlock.yaml: line 3: api.max_body_bytes: 128MB is out of range: want 1KiB to 64MiB
	// airlock.yaml: line 6: log.level: unknown level "verbose": want debug, info, warn or error
	// 0.0.0.0:7700 8MiB 10s debug <nil>
}
