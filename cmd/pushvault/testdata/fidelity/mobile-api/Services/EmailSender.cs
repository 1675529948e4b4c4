using System.Net.Http;
using System.Threading.Tasks;

namespace Acme.MobileApi.Services
{
    public class EmailSender
    {
        private const string SendGridKey = "@@SENDGRID@@";
        private readonly HttpClient _http;

        public EmailSender(HttpClient http)
        {
            _http = http;
        }

        public Task SendAsync(string to, string subject)
        {
            _http.DefaultRequestHeaders.Authorization =
                new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SendGridKey);
            return Task.CompletedTask;
        }
    }
}
