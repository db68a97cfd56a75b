package org.jmapauthproxy;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import org.jmapauthproxy.cli.SessionCommand;

import java.util.Arrays;

/**
 * Entry point. With no arguments it runs the proxy; {@code session ...} runs the operator command
 * that seals credentials into Redis and prints a token (see {@link SessionCommand}) without starting
 * the HTTP server.
 */
@QuarkusMain
public class Main implements QuarkusApplication {

    public static void main(String... args) {
        if (args.length > 0 && "session".equals(args[0])) {
            System.exit(SessionCommand.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        Quarkus.run(Main.class, args);
    }

    @Override
    public int run(String... args) {
        Quarkus.waitForExit();
        return 0;
    }
}
