/* test_link.c - the libstrophe SM workaround and nodefer.c, against a FAKE SERVER on loopback */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <strophe.h>

#include "link.h"
#include "nodefer.h"

/*
 * A fake server (named as such): accepts one component connection on
 * 127.0.0.1, answers the stream header and the handshake, sends one
 * stanza, and expects one back.  Without the workaround, libstrophe
 * 0.12.2 dies with SIGSEGV at that first stanza.
 */
static int got_stanza, up;

static int
on_stanza(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	xmpp_stanza_t *reply = xmpp_message_new(xmpp_conn_get_context(conn), NULL, "x@p.test", "r1");
	char *body = xmpp_message_get_body(st);
	const char *from = xmpp_stanza_get_from(st);

	(void)ud;
	/* 1: the stanza, whole; its reply must still be rendered and sent */
	got_stanza = body != NULL && strcmp(body, "hi") == 0 && from != NULL &&
	    strcmp(from, "p.test") == 0 ? 1 : -1;
	xmpp_free(xmpp_conn_get_context(conn), body);
	xmpp_stanza_set_from(reply, "sync.p.test");
	xmpp_send(conn, reply);
	xmpp_stanza_release(reply);
	return 1;
}

static void
on_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int err, xmpp_stream_error_t *se, void *ud)
{
	(void)err;
	(void)se;
	(void)ud;
	if (ev == XMPP_CONN_CONNECT) {
		up = 1;
		xmpp_handler_add(conn, on_stanza, NULL, NULL, NULL, NULL);
	}
}

static void
fake_server(int lfd)
{
	char buf[4096];
	int fd = accept(lfd, NULL, NULL);
	ssize_t n;
	const char *hdr = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
	    "xmlns:stream='http://etherx.jabber.org/streams' from='sync.p.test' id='fake1'>";
	const char *ok = "<handshake/><message from='p.test' to='sync.p.test'><body>hi</body></message>";
	size_t total = 0;

	alarm(10);
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0 || write(fd, hdr, strlen(hdr)) < 0 ||
	    read(fd, buf, sizeof(buf)) <= 0 || write(fd, ok, strlen(ok)) < 0)
		_exit(2);
	/* the component's answer to our stanza */
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - total)) > 0) {
		total += (size_t)n;
		buf[total] = '\0';
		if (strstr(buf, "<message"))
			_exit(0);
	}
	_exit(3);
}

/* A listening socket on 127.0.0.1, any port; its address into sa. */
static int
listen_loopback(struct sockaddr_in *sa)
{
	socklen_t salen = sizeof(*sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)sa, &salen), 0);
	return lfd;
}

/* The exchange with fake_server, libstrophe logging to log (or not). */
static void
first_stanza(const xmpp_log_t *log)
{
	struct sockaddr_in sa;
	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	pid_t pid;
	int lfd, status, i;

	got_stanza = up = 0;
	lfd = listen_loopback(&sa);
	if ((pid = fork()) == 0)
		fake_server(lfd);
	close(lfd);

	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, log);
	conn = xmpp_conn_new(ctx);
	assert_int_equal(skd_link_fix_sm(ctx, conn), 0);
	xmpp_conn_set_jid(conn, "sync.p.test");
	xmpp_conn_set_pass(conn, "secret");
	assert_int_equal(xmpp_connect_component(conn, "127.0.0.1", ntohs(sa.sin_port), on_conn, NULL), XMPP_EOK);
	for (i = 0; i < 500 && !got_stanza; i++)
		xmpp_run_once(ctx, 10);
	for (i = 0; i < 20; i++)
		xmpp_run_once(ctx, 10);	/* let the reply go out */
	assert_true(up);
	assert_int_equal(got_stanza, 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);	/* the reply arrived */
	xmpp_conn_release(conn);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
}

static void
component_survives_its_first_stanza(void **unused)
{
	(void)unused;
	first_stanza(NULL);
}

/*
 * The receive-side render (nodefer.c): libstrophe logs "RECV: <text>"
 * exactly when it rendered a received stanza, so a debug logger sees
 * every such render.  With rendering off, the message is still handled
 * whole and the reply (rendered by xmpp_send inside the handler) still
 * goes out, but nothing received was rendered; with it on (synckeyd at
 * debug level), both stanzas are logged.
 */
static int recv_rendered, recv_message, sent_message;

static void
count_renders(void *ud, xmpp_log_level_t level, const char *area, const char *msg)
{
	(void)ud;
	(void)level;
	(void)area;
	/* the stream header is logged from its parts, not rendered */
	if (strncmp(msg, "RECV: <", 7) == 0 && strncmp(msg, "RECV: <stream:", 14) != 0) {
		recv_rendered++;
		recv_message += strncmp(msg, "RECV: <message", 14) == 0;
	}
	sent_message += strncmp(msg, "SENT: <message", 14) == 0;
}

static const xmpp_log_t render_log = { count_renders, NULL };

static void
a_received_stanza_is_handled_but_not_rendered(void **unused)
{
	(void)unused;
	recv_rendered = recv_message = sent_message = 0;
	sk_nodefer_set_render(0);
	first_stanza(&render_log);
	sk_nodefer_set_render(1);
	assert_int_equal(recv_rendered, 0);	/* neither <handshake/> nor <message> */
	assert_int_equal(sent_message, 1);
}

static void
at_debug_level_received_stanzas_are_logged(void **unused)
{
	(void)unused;
	recv_rendered = recv_message = sent_message = 0;
	sk_nodefer_set_render(1);
	first_stanza(&render_log);
	assert_int_equal(recv_rendered, 2);	/* <handshake/> and <message> */
	assert_int_equal(recv_message, 1);
	assert_int_equal(sent_message, 1);
}

/*
 * Regression (reliability F2): the fake server sends a message with a
 * 12 kB attribute in four pieces, then a short message, then nothing.
 * With expat's reparse deferral on (Debian 12's expat since +deb12u2)
 * and libstrophe feeding it as is, the short message never arrives.
 */
static int got_after;

static int
on_after(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	const char *id = xmpp_stanza_get_id(st);

	(void)conn;
	(void)ud;
	if (id != NULL && strcmp(id, "after") == 0)
		got_after = 1;
	return 1;
}

static void
on_conn_after(xmpp_conn_t *conn, xmpp_conn_event_t ev, int err, xmpp_stream_error_t *se, void *ud)
{
	(void)err;
	(void)se;
	(void)ud;
	if (ev == XMPP_CONN_CONNECT)
		xmpp_handler_add(conn, on_after, NULL, "message", NULL, NULL);
}

/* After the handshake, sends big (n bytes) in four pieces, then waits. */
static void
fake_server_send(int lfd, const char *big, size_t n)
{
	char buf[4096];
	int fd = accept(lfd, NULL, NULL), i;
	const char *hdr = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
	    "xmlns:stream='http://etherx.jabber.org/streams' from='sync.p.test' id='fake2'>";
	size_t piece;

	alarm(10);
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0 || write(fd, hdr, strlen(hdr)) < 0 ||
	    read(fd, buf, sizeof(buf)) <= 0 || write(fd, "<handshake/>", 12) < 0)
		_exit(2);
	piece = n / 4 + 1;
	for (i = 0; i < 4; i++) {
		size_t off = (size_t)i * piece, len = off + piece > n ? n - off : piece;

		usleep(50000);
		if (write(fd, big + off, len) < 0)
			_exit(3);
	}
	/* nothing more until the component closes */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

/* Connects a component to a fake server sending big, and waits (3 s at
   most) for the message with id 'after'. */
static void
receive_after(const char *big, size_t n)
{
	struct sockaddr_in sa;
	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	pid_t pid;
	int lfd, status, i;

	got_after = 0;
	assert_true(sk_nodefer_status() >= 0);
	lfd = listen_loopback(&sa);
	if ((pid = fork()) == 0)
		fake_server_send(lfd, big, n);
	close(lfd);

	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	conn = xmpp_conn_new(ctx);
	assert_int_equal(skd_link_fix_sm(ctx, conn), 0);
	xmpp_conn_set_jid(conn, "sync.p.test");
	xmpp_conn_set_pass(conn, "secret");
	assert_int_equal(xmpp_connect_component(conn, "127.0.0.1", ntohs(sa.sin_port), on_conn_after, NULL), XMPP_EOK);
	for (i = 0; i < 300 && !got_after; i++)	/* 3 s at most */
		xmpp_run_once(ctx, 10);
	assert_true(got_after);
	xmpp_disconnect(conn);
	for (i = 0; i < 20; i++)
		xmpp_run_once(ctx, 10);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	xmpp_conn_release(conn);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
}

static void
a_long_token_in_pieces_does_not_stall_the_link(void **unused)
{
	static char big[12300];
	size_t n;

	(void)unused;
	n = (size_t)snprintf(big, sizeof(big), "<message from='p.test' to='sync.p.test' id='big' data='");
	while (n < 12000)
		big[n++] = 'A';
	n += (size_t)snprintf(big + n, sizeof(big) - n, "'/><message from='p.test' to='sync.p.test' id='after'/>");
	receive_after(big, n);
}

/* Regression (reliability F1, from the server's side): a message nested
   100 000 deep used to overflow the stack in libstrophe's own recursive
   walks of the tree; libstrophe now never gets more than 64 levels. */
static void
a_stanza_nested_100000_deep_does_not_crash(void **unused)
{
	const size_t depth = 100000;
	char *big = malloc(depth * 7 + 256);
	size_t n, i;

	(void)unused;
	n = (size_t)sprintf(big, "<message from='p.test' to='sync.p.test' id='deep'>");
	for (i = 0; i < depth; i++)
		n += (size_t)sprintf(big + n, "<a>");
	for (i = 0; i < depth; i++)
		n += (size_t)sprintf(big + n, "</a>");
	n += (size_t)sprintf(big + n, "</message><message from='p.test' to='sync.p.test' id='after'/>");
	receive_after(big, n);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(component_survives_its_first_stanza),
		cmocka_unit_test(a_received_stanza_is_handled_but_not_rendered),
		cmocka_unit_test(at_debug_level_received_stanzas_are_logged),
		cmocka_unit_test(a_long_token_in_pieces_does_not_stall_the_link),
		cmocka_unit_test(a_stanza_nested_100000_deep_does_not_crash),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
