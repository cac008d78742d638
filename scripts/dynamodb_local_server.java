/*
 * DynamoDB Local, listening on one address only.
 *
 * DynamoDB Local has no host option: its ServerRunner hands Jetty only a port, and a Jetty
 * connector without a host listens on every interface. Java has no system property that changes
 * that. This launcher builds the same server from the same command line (same options, same
 * request handler), sets the one connector's host before Jetty binds, and starts it. It is run
 * as a single source file, so there is nothing to build or commit (needs a JDK: the
 * jdk.compiler module).
 *
 * The Jetty server is a private field of DynamoDBProxyServer (DynamoDB Local 3.3.0); if a later
 * version renames it, this fails at start-up rather than listen on every interface.
 *
 * usage: java -Djava.library.path=$D/DynamoDBLocal_lib -cp "$D/DynamoDBLocal.jar:$D/DynamoDBLocal_lib/*" \
 *          scripts/dynamodb_local_server.java HOST [DynamoDB Local's options: -inMemory -port N ...]
 */
import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.AbstractNetworkConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

class DynamoDBLocalServer {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: dynamodb_local_server.java HOST [DynamoDB Local options]");
            System.exit(2);
        }
        String host = args[0];
        DynamoDBProxyServer proxy =
                ServerRunner.createServerFromCommandLineArgs(Arrays.copyOfRange(args, 1, args.length));
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server jetty = (Server) field.get(proxy);
        for (Connector connector : jetty.getConnectors()) {
            ((AbstractNetworkConnector) connector).setHost(host);
        }
        // safeStart, not start: start() prints a failed bind and returns, and the process would
        // exit 0 as if nothing went wrong; safeStart() throws, so the exit status says so. It
        // also skips the start-up telemetry that start() would try to send.
        proxy.safeStart();
        proxy.join();
    }
}
