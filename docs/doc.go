// Package docs holds zoom-worker's documents for the systems around it:
// asyncapi.yaml, the AsyncAPI 3.0 description of every subject the worker
// consumes and publishes, whose payloads are the JSON Schemas in
// messages/schema. The package has no code; its tests keep the document
// true to the messages package (subjects, Go types, schemas, headers), and
// README's layout table true to what each folder imports (layout_test.go).
package docs
