package org.jmapauthproxy.support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;

/**
 * A self-signed certificate for 127.0.0.1 and its key, as PEM files, for servers the tests start with
 * TLS. Made by the JDK's own {@code keytool} (no library on the test class path writes certificates);
 * the key leaves the throw-away PKCS#12 store through {@link KeyStore}, as PKCS#8.
 */
public final class TestCertificates {

    /** The PEM files: the certificate (also the one to trust) and its private key. */
    public record Pem(Path certificate, Path key) {
    }

    private TestCertificates() {
    }

    public static Pem selfSigned(Path dir) throws IOException, InterruptedException, GeneralSecurityException {
        Path store = dir.resolve("server.p12");
        char[] secret = "test-only-store".toCharArray();
        Process keytool = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", new String(secret)))
                .redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (keytool.waitFor() != 0) {
            throw new IOException("keytool failed: " + output);
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, secret);
        }
        Key key = keys.getKey("server", secret);
        Pem pem = new Pem(dir.resolve("server.crt"), dir.resolve("server.key"));
        Files.writeString(pem.certificate(), pem("CERTIFICATE", keys.getCertificate("server").getEncoded()));
        Files.writeString(pem.key(), pem("PRIVATE KEY", key.getEncoded()));
        for (Path file : List.of(dir, store, pem.certificate(), pem.key())) {
            file.toFile().deleteOnExit(); // in reverse order of registration: the files, then the folder
        }
        return pem;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
