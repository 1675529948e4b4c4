// Public client configuration: every value here ships to browsers.
export const environment = {
  production: true,
  apiUrl: "https://api.acme-corp.io",
  mapboxToken: "pk.eyJ1IjoiYWNtZS1jb3JwIiwiYSI6ImD59cv7Ms15oRjsFRygfyIn0.HNMAL5SVrT4QtWZVGhxKt1",
  recaptchaSiteKey: "6LcTVmMYHzGBtQAIaFBqA8tCvaUW4jcmbzJbO4hj",
  posthogKey: "phc_x7IYTvVSrNAQJI3za8CCWaRSIvCpsZR0xQYhwafP9yo",
  algolia: {
    appId: "KX7QPT2M9L",
    searchOnlyApiKey: "950428b78ca325ab95d95a51644fbb1f",
  },
};
