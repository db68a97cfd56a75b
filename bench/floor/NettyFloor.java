import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * A lower floor than {@code Floor}: the same least reverse proxy (keep-alive origin connections,
 * a fixed Basic header, the response relayed as it comes) on Netty's HTTP codecs alone, without
 * Vert.x's request, response, pool and future objects. Not part of the product: bench/floor/run
 * measures it next to Floor and nginx to tell how much of the gap to nginx is Vert.x's HTTP layer
 * and how much is the JVM's HTTP codecs.
 *
 * <p>One exchange at a time per client connection (no pipelining, as wrk sends); each event loop
 * keeps its own idle origin connections, so a request never leaves the loop of its client.
 *
 * <p>usage: java -cp CLASSPATH NettyFloor LISTEN_PORT ORIGIN_PORT EVENT_LOOPS
 */
public class NettyFloor {
    private static final String BASIC = "Basic dXNlcjpwYXNzd29yZA==";
    private static final AttributeKey<ChannelHandlerContext> CLIENT = AttributeKey.valueOf("client");
    // Touched only by the event loop that owns it: no locking.
    private static final FastThreadLocal<ArrayDeque<Channel>> IDLE = new FastThreadLocal<>() {
        @Override
        protected ArrayDeque<Channel> initialValue() {
            return new ArrayDeque<>();
        }
    };
    private static InetSocketAddress origin;

    public static void main(String[] args) throws InterruptedException {
        origin = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
        EventLoopGroup group = new EpollEventLoopGroup(Integer.parseInt(args[2]));
        new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new FromClient());
                    }
                })
                .bind("127.0.0.1", Integer.parseInt(args[0])).sync();
        System.out.println("netty floor listening on " + args[0]);
    }

    /** The client's side: takes an idle origin connection of this loop per request and writes to it. */
    static final class FromClient extends ChannelInboundHandlerAdapter {
        Channel originChannel;
        private boolean connecting;
        private final ArrayDeque<Object> pending = new ArrayDeque<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                request.headers().set(HttpHeaderNames.AUTHORIZATION, BASIC);
                acquire(ctx);
            }
            if (originChannel != null && !connecting) {
                originChannel.write(msg);
            } else {
                pending.add(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (originChannel != null && !connecting) {
                originChannel.flush();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // An exchange cut in the middle leaves its origin connection in an unknown state.
            if (originChannel != null) {
                originChannel.close();
            }
            pending.forEach(ReferenceCountUtil::release);
            pending.clear();
        }

        private void acquire(ChannelHandlerContext ctx) {
            ArrayDeque<Channel> idle = IDLE.get();
            Channel c;
            while ((c = idle.pollLast()) != null && !c.isActive()) {
                // closed by the origin while idle: drop it
            }
            if (c != null) {
                bind(ctx, c);
                return;
            }
            connecting = true;
            new Bootstrap().group(ctx.channel().eventLoop()).channel(EpollSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new FromOrigin());
                        }
                    })
                    .connect(origin).addListener((ChannelFuture f) -> {
                        connecting = false;
                        if (!f.isSuccess()) {
                            ctx.close();
                            return;
                        }
                        bind(ctx, f.channel());
                        Object m;
                        while ((m = pending.poll()) != null) {
                            originChannel.write(m);
                        }
                        originChannel.flush();
                    });
        }

        private void bind(ChannelHandlerContext ctx, Channel c) {
            originChannel = c;
            c.attr(CLIENT).set(ctx);
        }
    }

    /** The origin's side: relays the response to the client bound to it, then goes back to the idle list. */
    static final class FromOrigin extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ChannelHandlerContext client = ctx.channel().attr(CLIENT).get();
            if (client == null) {
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            if (msg instanceof LastHttpContent) {
                client.writeAndFlush(msg);
                ctx.channel().attr(CLIENT).set(null);
                ((FromClient) client.handler()).originChannel = null;
                IDLE.get().addLast(ctx.channel());
            } else {
                client.write(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ChannelHandlerContext client = ctx.channel().attr(CLIENT).get();
            if (client != null) {
                client.flush();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ChannelHandlerContext client = ctx.channel().attr(CLIENT).get();
            if (client != null) {
                client.close();
            }
        }
    }
}
