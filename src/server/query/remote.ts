/** SGQL on a shared `sg server`, over the sg-server NATS service (ops `query` and `catalog`). */
import type { NatsConnection } from 'nats';
import { DEFAULT_QUERY_TIMEOUT_MS, type QueryAnswer, type QueryCatalog, type QueryRequest } from '../../protocol/query';
import { requestServer } from '../sharedClient';
import type { QueryService } from './service';

export class RemoteQueries implements QueryService {
  constructor(private readonly nc: NatsConnection) {}

  run(request: QueryRequest): Promise<QueryAnswer> {
    // The server stops the query at its time limit; the request waits a little longer for that answer.
    return requestServer<QueryAnswer>(this.nc, 'query', request, (request.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS) + 5000);
  }

  catalog(): Promise<QueryCatalog> {
    return requestServer<QueryCatalog>(this.nc, 'catalog', {}, 15_000);
  }
}
