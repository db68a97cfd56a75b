import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

/**
 * The floor for jmap-auth-proxy: the least a Vert.x 4.5 reverse proxy does (pooled keep-alive
 * client, fixed Basic header, response piped back), with no token, no Redis, no metrics, no log and
 * no Quarkus. Not part of the product: bench/floor/run measures it against nginx so that the gap
 * between jmap-auth-proxy and nginx can be split into "Vert.x" and "everything else".
 *
 * usage: java -cp CLASSPATH Floor LISTEN_PORT ORIGIN_PORT EVENT_LOOPS
 */
public class Floor {
    public static void main(String[] args) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
                .setEventLoopPoolSize(Integer.parseInt(args[2])));
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setMaxChunkSize(65536),
                new PoolOptions().setHttp1MaxSize(64));
        int originPort = Integer.parseInt(args[1]);
        vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(Integer.parseInt(args[0])))
                .requestHandler(req -> {
                    req.pause();
                    client.request(new RequestOptions().setMethod(req.method()).setHost("127.0.0.1").setPort(originPort)
                                    .setURI(req.uri()))
                            .onSuccess(originRequest -> {
                                originRequest.putHeader("Authorization", "Basic dXNlcjpwYXNzd29yZA==");
                                req.resume();
                                originRequest.send().onSuccess(originResponse -> {
                                    HttpServerResponse response = req.response();
                                    response.setStatusCode(originResponse.statusCode());
                                    response.headers().addAll(originResponse.headers());
                                    originResponse.pipeTo(response);
                                }).onFailure(e -> req.response().setStatusCode(502).end());
                            })
                            .onFailure(e -> req.response().setStatusCode(502).end());
                })
                .listen()
                .onSuccess(server -> System.out.println("floor listening on " + server.actualPort()));
    }
}
