// Package contract holds GitHub's published contract for the GitHub
// stand-in: every request the stand-in receives, every response it sends and
// every webhook it emits is checked against GitHub's own descriptions.
//
// The REST contract is GitHub's OpenAPI 3.0.3 description of api.github.com
// from the npm package @octokit/openapi, the webhook contract the OpenAPI 3.1
// description from @octokit/openapi-webhooks; both are pinned by version and
// tarball sha256 in internal/npmfixture. The full REST description is about
// 13 MB, so the first Load derives the subset the stand-in serves (the
// operations in Served with every component they reference, transitively)
// and caches it as JSON in npmfixture.CacheDir()/contract, keyed by package
// version, sha256 and the Served list, which it records inside the file; a
// missing or differently keyed file is derived again. Webhooks are derived
// the same way from WebhookEvents.
//
// REST requests and responses are validated with kin-openapi's
// openapi3filter, because the REST description is OpenAPI 3.0 (nullable,
// readOnly, parameter styles and media types are OpenAPI notions a plain
// JSON Schema validator does not know). Routing is our own: GitHub's {ref}
// and {path} parameters contain slashes, which kin-openapi's routers do not
// match, and the document's own Validate fails on GitHub's description, so it
// is not called. Webhook payloads are validated with
// santhosh-tekuri/jsonschema/v6, because the webhooks description is OpenAPI
// 3.1 whose schemas are JSON Schema 2020-12 (type arrays such as
// ["string","null"]), which that validator implements completely; formats
// are asserted. Two format checks are ours: "uri-template" (jsonschema/v6's
// rejects the "{/var}" expansion every GitHub payload carries) and, for REST,
// "uri" (kin-openapi leaves it unchecked), so both sides assert the same
// formats. Webhooks.ValidateDelivery also checks the delivery headers each
// webhook documents as required.
//
// Nothing is loosened to make a body pass. Where GitHub returns a status an
// operation does not document, StatusExceptions may list it, with the
// reason, and the body is then held to GitHub's basic-error schema. A path
// under GitHub Enterprise Server's /api/v3 prefix is held to api.github.com's
// operation: the pinned GHES descriptions are not loaded, and for POST
// /credentials/revoke, which GHES documents as authenticated, they have no
// such path at all (see StatusExceptions).
//
// A schema failure is a *Violation naming the operation id (or webhook
// event.action) and the rule broken at a JSON pointer. Its message is built
// from the schema only: it never quotes a value from a request, response or
// payload, because those may hold the very secrets pushvault handles.
package contract
