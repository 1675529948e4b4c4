package remediator_test

import (
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/scanner"
)

// A generic identifier (apiKey, api_key, ApiKey, API_KEY) says nothing about
// whose key it is: the detector qualifies it, the same way in every
// language the fix rewrites, so a Stripe key and a SendGrid key both
// assigned to "apiKey" never share one variable in vault.env.
func TestPipelineQualifiesGenericNamesInEveryLanguage(t *testing.T) {
	for _, tc := range []struct {
		lang, path, src string
		sendgrid        string // the SendGrid key's variable, when not SENDGRID_API_KEY
	}{
		{"Go", "internal/billing/integrations.go", `package billing

import (
	"github.com/sendgrid/sendgrid-go"
	"github.com/stripe/stripe-go/v76"
)

func Setup() {
	apiKey := "«STRIPE»"
	stripe.Key = apiKey
}

func Mailer() *sendgrid.Client {
	apiKey := "«SG»"
	return sendgrid.NewSendClient(apiKey)
}
`, ""},
		{"Python", "shop/integrations.py", `import sendgrid
import stripe

stripe.api_key = "«STRIPE»"


def mailer():
    return sendgrid.SendGridAPIClient(api_key="«SG»")
`, ""},
		{"Ruby", "config/initializers/integrations.rb", `require "stripe"
require "sendgrid-ruby"

Stripe.api_key = "«STRIPE»"

MAILER = SendGrid::API.new(api_key: "«SG»")
`, ""},
		{"JavaScript", "src/config.js", `module.exports = {
  stripe: { apiKey: '«STRIPE»', apiVersion: '2024-06-20' },
  sendgrid: { apiKey: '«SG»' },
};
`, ""},
		{"TypeScript", "src/clients.ts", `export class PaymentsClient {
  private readonly apiKey = "«STRIPE»";
}

export class MailClient {
  private readonly apiKey = "«SG»";
}
`, ""},
		{"Java", "src/main/java/com/acme/shop/Integrations.java", `package com.acme.shop;

import com.sendgrid.SendGrid;
import com.stripe.Stripe;

public final class Integrations {
    static void init() {
        Stripe.apiKey = "«STRIPE»";
    }

    static SendGrid mailer() {
        String apiKey = "«SG»";
        return new SendGrid(apiKey);
    }
}
`, ""},
		{"Kotlin", "src/main/kotlin/com/acme/shop/Integrations.kt", `package com.acme.shop

import com.sendgrid.SendGrid
import com.stripe.Stripe

object Integrations {
    fun init() {
        Stripe.apiKey = "«STRIPE»"
    }

    fun mailer(): SendGrid {
        val apiKey = "«SG»"
        return SendGrid(apiKey)
    }
}
`, ""},
		{"C#", "src/Shop/Integrations.cs", `using SendGrid;
using Stripe;

public static class Integrations
{
    public static void Init()
    {
        StripeConfiguration.ApiKey = "«STRIPE»";
    }

    public static SendGridClient Mailer()
    {
        var apiKey = "«SG»";
        return new SendGridClient(apiKey);
    }
}
`, ""},
		{"PHP", "config/services.php", `<?php

return [
    'stripe' => ['api_key' => '«STRIPE»'],
    'sendgrid' => ['api_key' => '«SG»'],
];
`, ""},
		{"shell", "scripts/smoke.sh", `#!/bin/bash
set -euo pipefail
API_KEY="«STRIPE»"
curl -fsS -u "$API_KEY:" https://api.stripe.com/v1/balance
SECRET_KEY="«SG»"
curl -fsS -H "Authorization: Bearer $SECRET_KEY" https://api.sendgrid.com/v3/scopes
`, "SENDGRID_SECRET_KEY"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			g := secrettest.Fresh(t)
			stripe, sg := g.Stripe(), g.SendGrid()
			src := strings.NewReplacer("«STRIPE»", stripe, "«SG»", sg).Replace(tc.src)
			lineOf := func(s string) int { return strings.Count(src[:strings.Index(src, s)], "\n") + 1 }
			p := newPorts()
			res, err := p.run(t, []*scanner.Finding{
				finding("pv_00000000000000000401", "Stripe", stripe, tc.path, lineOf(stripe)),
				finding("pv_00000000000000000402", "SendGrid", sg, tc.path, lineOf(sg)),
			}, map[string]string{tc.path: src})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			env := vaultEnv(t, p.fix.Files)
			sendgrid := "SENDGRID_API_KEY"
			if tc.sendgrid != "" {
				sendgrid = tc.sendgrid
			}
			for i, want := range []string{"STRIPE_API_KEY", sendgrid} {
				v := res.Plan.Secrets[i]
				if len(v.Edits) != 1 {
					t.Fatalf("%s: edits %+v, manual %+v; want one edit", v.Finding.Detector, v.Edits, v.Manual)
				}
				if got := v.Edits[0].EnvName; got != want {
					t.Errorf("%s key read from %s, want %s", v.Finding.Detector, got, want)
				}
				if got := v.Name; got != strings.ToLower(want) {
					t.Errorf("%s key vaulted as %q, want %q", v.Finding.Detector, got, strings.ToLower(want))
				}
				if env[want] != v.Refs["value"].Vault() {
					t.Errorf("vault.env %s = %q, want %s", want, env[want], v.Refs["value"].Vault())
				}
			}
			if strings.Contains(string(p.fix.Files[tc.path]), stripe) || strings.Contains(string(p.fix.Files[tc.path]), sg) {
				t.Errorf("the rewritten file still holds a planted key")
			}
		})
	}
}
