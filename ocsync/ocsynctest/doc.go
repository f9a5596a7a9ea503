// Package ocsynctest provides an in-memory ocsync.Source and ocsync.Registry
// for tests and for programs that embed the engine: seeded data, faults and a
// hook per operation, counters of calls, and interceptors that wrap any
// Source or Registry. Both are safe for concurrent use.
//
// They speak the idiom of the fake servers openconnectors/octest and
// compass/compasstest, without a server:
//
//	src := ocsynctest.NewSource(apps...)
//	reg := ocsynctest.NewRegistry()
//	reg.AddFault(ocsynctest.OpCreate, ocsynctest.Fault{Name: "app-1", After: true, Times: 1})
//	... run the engine ...
//	src.Count(ocsynctest.OpSpec), reg.Mutations(), reg.ResetCounts(), reg.ClearFaults()
//
// A call of an operation is counted first, failed calls included; it then
// fails when its context is done, when the Hook returns an error, or with
// the first Fault added for its operation that matches (Fault.Name: one
// application; Fault.Times: 0 every call until ClearFaults, n > 0 the next
// n). A Fault with After lets the call run and fails only its answer, so a
// change is stored although the caller sees the error: a change committed
// whose answer was lost. For anything else (changing arguments or results,
// failing by the state of the call) wrap a Source or a Registry with
// InterceptSource or InterceptRegistry.
package ocsynctest
