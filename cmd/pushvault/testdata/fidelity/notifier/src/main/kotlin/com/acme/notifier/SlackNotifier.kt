package com.acme.notifier

import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest

private const val SLACK_TOKEN = "@@SLACK@@"

class SlackNotifier(private val http: HttpClient = HttpClient.newHttpClient()) {
    fun post(channel: String, text: String) {
        val request = HttpRequest.newBuilder(URI.create("https://slack.com/api/chat.postMessage"))
            .header("Authorization", "Bearer $SLACK_TOKEN")
            .POST(HttpRequest.BodyPublishers.ofString("""{"channel":"$channel","text":"$text"}"""))
            .build()
        http.send(request, java.net.http.HttpResponse.BodyHandlers.discarding())
    }
}
