export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
export const TOKEN_HEADER = "X-Auth-Token";
export const tokenType = "Bearer";
export const SECRET_NAME = "shop/prod/db";
export const secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/prod/db-AbCdEf";
const resetTokenExpiry = "1h";
const passwordPattern = /^(?=.*[A-Z])(?=.*\d).{12,}$/;

export function validatePassword(password: string): boolean {
  if (password === confirmPassword) {
    return passwordPattern.test(password);
  }
  return password.length >= PASSWORD_MIN_LENGTH;
}

export const apiKeyHeader = "x-api-key";
const token = req.headers.authorization?.split(" ")[1];
const apiKey = process.env.ORDERS_API_KEY ?? "";
