package rotate

// guides are the rotation guides TruffleHog v3.90.0's detectors attach to
// their results (ExtraData "rotation_guide"), by detector type, copied here
// so a finding gets its guide whether or not it was verified.
var guides = map[string]string{
	"AWS": "https://howtorotate.com/docs/tutorials/aws/", "AWSSessionKey": "https://howtorotate.com/docs/tutorials/aws/",
	"AirbrakeProjectKey": "https://howtorotate.com/docs/tutorials/airbrake/", "AirbrakeUserKey": "https://howtorotate.com/docs/tutorials/airbrake/",
	"Atlassian": "https://howtorotate.com/docs/tutorials/atlassian/", "JiraToken": "https://howtorotate.com/docs/tutorials/atlassian/",
	"Azure":      "https://howtorotate.com/docs/tutorials/azure/",
	"ElevenLabs": "https://howtorotate.com/docs/tutorials/elevenlabs/", "Eraser": "https://howtorotate.com/docs/tutorials/eraser/",
	"Flexport": "https://howtorotate.com/docs/tutorials/flexport/", "GCP": "https://howtorotate.com/docs/tutorials/gcp/",
	"GitHubApp": "https://howtorotate.com/docs/tutorials/github/", "GitHubOauth2": "https://howtorotate.com/docs/tutorials/github/",
	"Github": "https://howtorotate.com/docs/tutorials/github/", "Gitlab": "https://howtorotate.com/docs/tutorials/gitlab/",
	"Groq": "https://howtorotate.com/docs/tutorials/groq/", "Mailchimp": "https://howtorotate.com/docs/tutorials/mailchimp/",
	"MaxMindLicense":        "https://howtorotate.com/docs/tutorials/maxmind/",
	"MicrosoftTeamsWebhook": "https://howtorotate.com/docs/tutorials/microsoftteams/",
	"MongoDB":               "https://howtorotate.com/docs/tutorials/mongo/", "NpmToken": "https://howtorotate.com/docs/tutorials/npm/",
	"RailwayApp": "https://howtorotate.com/docs/tutorials/railwayapp/", "SaladCloudApiKey": "https://howtorotate.com/docs/tutorials/saladcloudapikey/",
	"SendGrid": "https://howtorotate.com/docs/tutorials/sendgrid/", "Sendbird": "https://howtorotate.com/docs/tutorials/sendbird/",
	"Slack": "https://howtorotate.com/docs/tutorials/slack/", "SlackWebhook": "https://howtorotate.com/docs/tutorials/slack-webhook/",
	"Sourcegraph": "https://howtorotate.com/docs/tutorials/sourcegraph/", "Square": "https://howtorotate.com/docs/tutorials/square/",
	"Stripe": "https://howtorotate.com/docs/tutorials/stripe/", "SumoLogicKey": "https://howtorotate.com/docs/tutorials/sumologic/",
	"Twilio": "https://howtorotate.com/docs/tutorials/twilio/",
}

// genericSteps is the procedure for credentials without a provider guide.
var genericSteps = []string{
	"sign in to the provider that issued the credential and create a replacement (same scopes, nothing more)",
	"store the replacement as the next version of the vault secret: vault kv put -cas=<current version> <path> value=-",
	"deploy or reload what reads the vault reference, so it uses the replacement",
	"revoke or delete the exposed credential at the provider, then check it is refused",
	"record it: pushvault rotated <finding id> --actor <your name>",
}

// Guide returns the provider's rotation guide for a detector type ("" when
// TruffleHog has none) and the steps a person follows.
func Guide(detector string) (string, []string) {
	g := guides[detector]
	steps := append([]string(nil), genericSteps...)
	if g != "" {
		steps[0] = "follow the provider's rotation guide (" + g + ") to create a replacement"
	}
	return g, steps
}
