// Package jsonscan finds the members and values of JSON text without
// decoding it: the one scanner of the fast paths that read jobs and Zoom's
// answers (messages) and that take start_url out of a meeting (worker).
// Its scans check no value's syntax; callers parse or validate what they
// find, with Valid, encoding/json.Valid in one pass.
package jsonscan
