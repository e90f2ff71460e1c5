// The djps HTTP API inside a Koa app (a sketch: koa is not a dependency of
// djps; `npm install koa` to run it).
import Koa from "koa";
import { Queue } from "djps";
import { createHandler } from "djps/http";

const queue = new Queue(); // DATABASE_URL
const api = createHandler({ queue, basePath: "/djps" });
const app = new Koa();
app.use(async (ctx, next) => {
  if (ctx.path !== "/djps" && !ctx.path.startsWith("/djps/")) return next();
  ctx.respond = false; // the handler writes the response itself
  await api(ctx.req, ctx.res);
});
app.listen(8080);
