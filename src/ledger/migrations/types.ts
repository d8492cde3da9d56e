/** One schema step. Versions are positive integers, strictly increasing, never reused. */
export interface Migration {
  version: number;
  name: string;
  /** Portable SQL (several statements); `{{AUTO_ID}}` marks an auto-increment primary key. */
  up: string;
}

export type SqlDialect = 'sqlite' | 'postgres';
