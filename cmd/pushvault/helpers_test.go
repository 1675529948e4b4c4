package main_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func cmpSortLocs[T any](less func(a, b T) bool) cmp.Option {
	return cmpopts.SortSlices(less)
}

// fakeT records a failure instead of failing the real test, to check that
// a helper does fail.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) T(real *testing.T) *fakeT { f.TB = real; return f }
func (f *fakeT) Helper()                  {}
func (f *fakeT) Fatal(args ...any)        { f.failed = true; panic("fatal") }
func (f *fakeT) Fatalf(string, ...any)    { f.failed = true; panic("fatal") }
func (f *fakeT) Errorf(string, ...any)    { f.failed = true }
