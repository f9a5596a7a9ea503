// Package chaos holds the seeded chaos test of the whole sync: the real
// Open Connectors and Compass clients and the engine, against the fake
// platform (openconnectors/octest) and the fake Director
// (compass/compasstest) on loopback, under random drift of both sides,
// injected faults and cancellations. It has no code of its own outside its
// tests; docs/reliability.md describes what it proves.
package chaos
