# bench/jar.sh, sourced by the bench scripts (ROOT set): the proxy's executable jar of a build.
# proxy_jar [PATH] prints it. PATH is a jar, a build's target directory, or the quarkus-app
# directory of a build from before the uber-jar (its quarkus-run.jar); without PATH it is this
# checkout's target/jmap-auth-proxy-runner.jar, built first when missing.
proxy_jar() {
    local path=${1:-$ROOT/target/jmap-auth-proxy-runner.jar} f
    if [ -d "$path" ]; then
        for f in "$path/jmap-auth-proxy-runner.jar" "$path/quarkus-run.jar"; do
            [ -f "$f" ] && { echo "$f"; return; }
        done
        echo "no proxy jar in $path" >&2; return 1
    fi
    [ -f "$path" ] || [ -n "${1:-}" ] || (cd "$ROOT" && ./mvnw -B -ntp -q package -DskipTests >&2)
    [ -f "$path" ] || { echo "no $path (./mvnw package -DskipTests)" >&2; return 1; }
    echo "$path"
}
# proxy_classpath JAR: the classpath of that build's classes and libraries (an uber-jar is its own).
proxy_classpath() {
    case $1 in */quarkus-run.jar) echo "$(dirname "$1")/lib/main/*:$(dirname "$1")/lib/boot/*" ;; *) echo "$1" ;; esac
}
