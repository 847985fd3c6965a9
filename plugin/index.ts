// The component the package serves to other languages, as the schema analyzer reads it (from the
// compiled declarations; the engine runs package.json's "main", the compiled JavaScript).
export { RedisHa } from "../dist/components/redisHa";
