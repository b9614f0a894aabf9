package mem_test

import (
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/lake/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) lake.Store { return mem.New() })
}
