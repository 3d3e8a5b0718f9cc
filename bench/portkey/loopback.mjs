// Preloaded with `node --import` so Portkey's gateway listens on 127.0.0.1 only: its start-server.js
// passes no hostname to @hono/node-server's serve(), which would otherwise listen on every interface.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && args[1] === undefined) {
    args[1] = "127.0.0.1";
  }
  return listen.apply(this, args);
};
