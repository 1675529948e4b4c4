// Package contract holds the AWS stand-in to AWS's published service
// models: the models AWS's JavaScript SDK is generated from (npm aws-sdk,
// pinned in internal/npmfixture), for IAM, STS and Secrets Manager. It
// parses query-protocol requests (form-encoded Action=…&Version=…) and
// JSON 1.1 requests against an operation's input shape, and checks
// answers, as they go on the wire (query-protocol XML and JSON), against
// its output shape: every member known to the shape, every required member
// present, every value of the member's type (string, integer, long,
// boolean, timestamp, blob, list, map, structure). The minified models
// carry no enums, patterns or lengths, so those are not checked. Values of
// members the model marks sensitive never appear in an error.
package contract
