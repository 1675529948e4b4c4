import { Pool } from "pg";

export const pool = new Pool({
  host: "db.internal",
  user: "orders",
  password: "L3J5ceiSvfpkvbqXJM",
  database: "orders",
});

const ADMIN_PASSWORD: string = "hunter2";
