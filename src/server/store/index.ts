import type { StoreSettings } from '../../protocol/settings';
import { ClickHouseStore } from './clickhouse';
import { DuckDbStore } from './duckdb';
import type { Store } from './store';

export function createStore(settings: StoreSettings): Store {
  switch (settings.kind) {
    case 'duckdb':
      return new DuckDbStore(settings.path, settings.memoryLimitMb);
    case 'clickhouse':
      return new ClickHouseStore(settings);
  }
}

export type { Store } from './store';
