/** Shapes of the API's answers that both the console and the dashboard read. */

/** Laravel's paginator: a page of `data` and the counts beside it. */
export interface Paginated<T> {
  data: T[];
  current_page: number;
  last_page: number;
  per_page: number;
  total: number;
}

/** An account as the API shows it (GET /api/admin/accounts, GET /api/auth/me). */
export interface Account {
  id: number;
  name: string;
  email: string;
  role: string;
  status: string;
  balance: number;
  default_sender_id: string | null;
  created_at: string;
}

/** A package order (GET /api/orders; the operator's list adds the account). */
export interface Order {
  id: number;
  uuid: string;
  package_id: number;
  status: string;
  payment_method: string | null;
  provider: string | null;
  price: number;
  currency: string;
  credits: number;
  created_at: string;
  decided_at: string | null;
}
