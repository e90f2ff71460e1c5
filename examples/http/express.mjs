// The djps HTTP API inside an Express app (a sketch: express is not a
// dependency of djps; `npm install express` to run it).
import express from "express";
import { Queue } from "djps";
import { createHandler } from "djps/http";

const queue = new Queue(); // DATABASE_URL
const app = express();
// Before any body parser: the handler reads the body itself, with its limits.
app.use("/djps", createHandler({ queue, basePath: "/djps" }));
app.use(express.json()); // the app's own routes after it
app.listen(8080);
