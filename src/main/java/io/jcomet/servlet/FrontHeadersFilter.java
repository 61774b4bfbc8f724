package io.jcomet.servlet;

import io.jcomet.core.Broker;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Runs before every request of the web app: marks every response {@code X-Content-Type-Options:
 * nosniff} (a JSONP answer is a script; nothing may be sniffed into one), refuses methods nothing here
 * implements with a 405 (the servlet default would be a 501), and hides the chat demo's page unless
 * {@code demo=true}. Stateless; any request thread.
 */
public final class FrontHeadersFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain) throws IOException, ServletException {
        resp.setHeader("X-Content-Type-Options", "nosniff");
        String m = req.getMethod();
        if (!m.equals("GET") && !m.equals("POST") && !m.equals("HEAD") && !m.equals("OPTIONS") && !ownServlet(req)) {
            // static files: a method nobody implements is the client's mistake (405), not the
            // server's (the default servlet's 501); jcomet's own servlets answer methods themselves
            resp.setHeader("Allow", "GET, HEAD, OPTIONS");
            CometServlet.error(resp, 405, m + " not allowed on " + req.getServletPath());
            return;
        }
        if ("/chat.html".equals(req.getServletPath())) {
            Broker b = (Broker) req.getServletContext().getAttribute(Broker.class.getName());
            if (b == null || !b.config().demo()) {
                CometServlet.error(resp, 404, "the chat demo is off (demo=false)");
                return;
            }
        }
        chain.doFilter(req, resp);
    }

    private static boolean ownServlet(HttpServletRequest req) {
        String name = req.getHttpServletMapping() == null ? null : req.getHttpServletMapping().getServletName();
        return "comet".equals(name) || "chat-demo".equals(name);
    }
}
