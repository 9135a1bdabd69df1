package mtauth_test

import (
	"os"
	"testing"

	"github.com/mtauth/mtauth/pkg/motoserver"
)

// TestMain stops the moto_server the fixture run starts.
func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }
