package org.jmapauthproxy.token;

import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.util.KeyUtils;
import org.jose4j.jwk.JsonWebKey;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Where the verification key is published ({@code authproxy.jwt.public-key} set to an http: or
 * https: URL): fetches the document and checks that it is a PEM public key, a JWK or a JWK set before
 * anyone relies on it. Fetching blocks; callers are start-up and the refresh thread, never an event loop.
 *
 * <p>Failures are reported by reason only (status, exception type, "not a key"), never with the
 * document, and the URL is named by its host, as its path or query may carry a credential.
 */
final class PublicKeyEndpoint {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final URI uri;
    private final SignatureAlgorithm algorithm;
    private final HttpClient client;

    PublicKeyEndpoint(URI uri, SignatureAlgorithm algorithm) {
        this.uri = uri;
        this.algorithm = algorithm;
        this.client = HttpClient.newBuilder()
                .connectTimeout(TIMEOUT)
                // NORMAL never follows a redirect from https: down to http:.
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    static boolean isUrl(String location) {
        String lower = location.toLowerCase(Locale.ROOT);
        return lower.startsWith("http:") || lower.startsWith("https:");
    }

    String host() {
        return uri.getHost() == null ? "(no host)" : uri.getHost();
    }

    /**
     * @return the key document, checked to hold a key
     * @throws IOException with a message that is safe to log
     */
    String fetch() throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(TIMEOUT)
                .header("Accept", "application/jwk-set+json, application/json;q=0.9, */*;q=0.8")
                .GET()
                .build();
        HttpResponse<String> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IOException(e.getClass().getSimpleName());
        }
        if (response.statusCode() != 200) {
            throw new IOException("HTTP " + response.statusCode());
        }
        String content = response.body().trim();
        if (!holdsKey(content)) {
            throw new IOException("the answer is not a PEM public key, a JWK or a JWK set");
        }
        return content;
    }

    private boolean holdsKey(String content) {
        try {
            if (content.startsWith("{")) {
                List<JsonWebKey> keys = KeyUtils.loadJsonWebKeys(content);
                return keys != null && !keys.isEmpty();
            }
            return KeyUtils.decodePublicKey(content, algorithm) != null;
        } catch (Exception notAKey) {
            return false;
        }
    }
}
