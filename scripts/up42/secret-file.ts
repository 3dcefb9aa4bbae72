import { readFile, writeFile } from 'node:fs/promises';

/**
 * Puts `NAME=value` into a dotenv file: fills an empty `NAME=` line where there is one (as .env.example has),
 * else appends the line; a file that does not exist is created readable by its owner only. Nothing else in the
 * file changes.
 */
export async function saveToDotenv(path: string, name: string, value: string): Promise<void> {
  let text: string | null;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = null;
  }
  if (text === null) {
    await writeFile(path, `${name}=${value}\n`, { mode: 0o600 });
    return;
  }
  const empty = new RegExp(`^${name}=[ \\t]*$`, 'm');
  const next = empty.test(text)
    ? text.replace(empty, `${name}=${value}`)
    : `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${name}=${value}\n`;
  await writeFile(path, next);
}
