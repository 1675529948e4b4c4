import { useState } from "react";

export function LoginForm({ onSubmit }) {
  const [password, setPassword] = useState("");
  const [showPassword, setShowPassword] = useState(false);
  return (
    <form onSubmit={() => onSubmit(password)}>
      <input type={showPassword ? "text" : "password"} name="password" placeholder="Password" autoComplete="current-password" />
    </form>
  );
}
