// Package awstest is an AWS stand-in for tests: one HTTP endpoint serving
// IAM, STS and Secrets Manager for everything pushvault and Vault's AWS
// secrets engine call, held to AWS's own published service models.
//
// It speaks the real wire protocols, so unchanged clients work against
// it (aws-sdk-go-v2 with BaseEndpoint; Vault's engine with iam_endpoint
// and sts_endpoint): IAM and STS in the awsquery protocol (form-encoded
// Action=…&Version=…, XML answers in <OpResponse><OpResult> with
// ResponseMetadata/RequestId, errors as ErrorResponse/Error/{Type,Code,
// Message}), told apart by the service of the request's SigV4 scope;
// Secrets Manager in JSON 1.1 (X-Amz-Target: secretsmanager.<Op>,
// Content-Type application/x-amz-json-1.1, errors as {"__type", "message"}).
//
// Every request must carry a valid SigV4 signature (canonical request,
// string to sign, derived key) by a key the stand-in issued: the scope's
// region must be the stand-in's (us-east-1 for IAM, a global service),
// X-Amz-Date within MaxSkew of its clock, and temporary credentials must
// come with their session token (signed) before they expire. As AWS does,
// an unknown, inactive or deleted key is refused with InvalidClientTokenId
// (query; UnrecognizedClientException in JSON), a wrong signature, a
// skewed clock or a foreign region with SignatureDoesNotMatch
// (InvalidSignatureException), an expired session with ExpiredToken
// (ExpiredTokenException). The signature check is tested against
// aws-sdk-go-v2's own signer test vector and AWS's documented IAM example.
//
// Every request is parsed against the operation's input shape in AWS's
// model and every answer is checked, as it goes on the wire, against the
// output shape (package contract, on the models of the npm aws-sdk
// package, version and checksum pinned in internal/npmfixture). A
// violation fails the test that caused it (New) or is logged (Start); an
// off-model request is answered with the protocol's validation error, an
// off-model answer with a 500. Fault{Kind: OffModel} makes an answer
// break the model on purpose, to see the check bite. Other faults answer
// an error (ServerError, Throttling) or hold a request until its client
// goes away, before it runs (HoldRequest) or after (HoldResponse), so a
// test can kill the client at a chosen step; a fault may be narrowed to
// one operation, one signing key, and the Nth such request (Skip).
//
// Served: STS GetCallerIdentity (a user's, the root's, an assumed
// role's or a federated user's ARN), AssumeRole (roles made with
// CreateRole), GetSessionToken and GetFederationToken (from a user's
// long-term key only) — no trust policies are evaluated, and identity
// policies only WithPolicyEnforcement (else every authenticated caller of
// the account may do everything); IAM GetUser,
// ListAccessKeys, CreateAccessKey (two keys per user: LimitExceeded),
// UpdateAccessKey, DeleteAccessKey, and what Vault's AWS engine calls for
// static roles (GetUser, ListAccessKeys, CreateAccessKey,
// DeleteAccessKey) and iam_user roles (CreateUser, TagUser,
// PutUserPolicy, AttachUserPolicy, AddUserToGroup, and on revocation
// ListGroupsForUser, ListUserPolicies, ListAttachedUserPolicies,
// DeleteUserPolicy, DetachUserPolicy, RemoveUserFromGroup, DeleteUser);
// Secrets Manager CreateSecret, PutSecretValue, GetSecretValue,
// DescribeSecret, UpdateSecretVersionStage, TagResource,
// ListSecretVersionIds and DeleteSecret, with ClientRequestToken
// idempotency as AWS documents it (the token is the version id; a retry
// with the same value is answered as the first call, another value under
// the same token is ResourceExistsException), AWSCURRENT/AWSPREVIOUS moved
// as Secrets Manager moves them, and versions left without a label kept
// (up to 100) but listed only with IncludeDeprecated.
//
// State is in memory; tests read it through methods that never return a
// secret value (AccessKeys, Secret, Calls). Credentials' printers redact
// the secret key, and no answer or error of the stand-in quotes a secret
// value or a signature.
package awstest
