/**
 * Stripe-style lists: one page in `.data`; `for await (const item of page)` walks every item from
 * this page on, fetching the next pages as it reaches them (newest first).
 */
export type Query = Record<string, string | number | boolean | undefined>;

export class Page<Item extends { id: string }> implements AsyncIterable<Item> {
  constructor(
    readonly data: Item[],
    readonly hasMore: boolean,
    private readonly query: Query,
    private readonly fetch: (query: Query) => Promise<Page<Item>>,
  ) {}

  hasNextPage(): boolean {
    return this.hasMore && this.data.length > 0;
  }

  /** The following page (call only when `hasNextPage()`). */
  nextPage(): Promise<Page<Item>> {
    const last = this.data[this.data.length - 1];
    return this.fetch({ ...this.query, starting_after: last?.id });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    let page: Page<Item> = this;
    for (;;) {
      yield* page.data;
      if (!page.hasNextPage()) return;
      page = await page.nextPage();
    }
  }
}
