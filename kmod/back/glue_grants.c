// SPDX-License-Identifier: GPL-2.0
/*
 * glue_grants.c - xenblk-back's services (back_services.h) for grant
 * mapping: the per-request maps, the indirect pages and the persistently
 * mapped slots of a ring.  Called by the C++ driver (and by glue_ring.c at
 * completion and teardown); what to map, what to undo after a failure and
 * when to evict is the C++ side's.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "back_services.h"
#include "glue.h"
#include "../rt/rt_api.h"

unsigned long xbg_vaddr(struct page *page)
{
	return (unsigned long)pfn_to_kaddr(page_to_pfn(page));
}

/* Unmap n granted pages and return them to the ring's cache; pages whose
 * unmap failed are not reused (leaked). */
void xbg_unmap(struct xbg_ring *r, struct page **pages, grant_handle_t *handles,
		      unsigned int n)
{
	unsigned int i, k = 0;
	int err;

	for (i = 0; i < n; i++) {
		if (handles[i] == INVALID_GRANT_HANDLE)
			continue;
		gnttab_set_unmap_op(&r->unmap[k], xbg_vaddr(pages[i]), GNTMAP_host_map, handles[i]);
		r->tpages[k++] = pages[i];
		handles[i] = INVALID_GRANT_HANDLE;
	}
	if (!k)
		return;
	err = gnttab_unmap_refs(r->unmap, NULL, r->tpages, k);
	if (err) {
		pr_err("xenblk-back: grant unmap failed (%d); %u pages not reused\n", err, k);
		return;
	}
	xb_rt_count_grants(-(long)k);
	gnttab_page_cache_put(&r->cache, r->tpages, k);
}

/* Map n grants of the frontend into pages from the ring's cache (all or
 * none taken); ok[i] = 1 and handles[i] set for each that mapped. */
int xbg_map(struct xbg_ring *r, const unsigned int *grefs, unsigned int n, bool readonly,
		   struct page **pages, grant_handle_t *handles, unsigned char *ok)
{
	unsigned int i, got;
	int err;
	u32 flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);

	if (!n)
		return 0;
	for (got = 0; got < n; got++) {
		handles[got] = INVALID_GRANT_HANDLE;
		if (gnttab_page_cache_get(&r->cache, &pages[got])) {
			gnttab_page_cache_put(&r->cache, pages, got);
			for (i = 0; i < got; i++)
				pages[i] = NULL;
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++)
		gnttab_set_map_op(&r->map[i], xbg_vaddr(pages[i]), flags, grefs[i],
				  r->gd->xd->otherend_id);
	err = gnttab_map_refs(r->map, NULL, pages, n);
	for (i = 0; i < n; i++) {
		ok[i] = !err && r->map[i].status == GNTST_okay;
		if (ok[i]) {
			handles[i] = r->map[i].handle;
			xb_rt_count_grants(1);
		}
	}
	return 0;
}

/* Unmap the mapped ones of n pages of the cache, return the others to it. */
void xbg_release(struct xbg_ring *r, struct page **pages, grant_handle_t *handles,
			const unsigned char *own, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if ((own && !own[i]) || !pages[i] || handles[i] != INVALID_GRANT_HANDLE)
			continue;
		gnttab_page_cache_put(&r->cache, &pages[i], 1);
		pages[i] = NULL;
	}
	xbg_unmap(r, pages, handles, n);
}

/* ---- indirect pages ---- */

int xbg_indirect_map(struct xbg_ring *r, const unsigned int *grefs, unsigned int n,
		     const void **addrs, unsigned char *ok)
{
	unsigned int i;
	int err;

	if (n > XBG_MAX_INDIRECT_PAGES || r->ind_n)
		return -EINVAL;
	err = xbg_map(r, grefs, n, true, r->ind_pages, r->ind_handles, ok);
	if (err)
		return err;
	r->ind_n = n;
	for (i = 0; i < n; i++)
		addrs[i] = (const void *)xbg_vaddr(r->ind_pages[i]);
	return 0;
}

void xbg_indirect_unmap(struct xbg_ring *r)
{
	xbg_release(r, r->ind_pages, r->ind_handles, NULL, r->ind_n);
	r->ind_n = 0;
}

/* ---- persistent grants ---- */

int xbg_pgnt_init(struct xbg_ring *r, unsigned int capacity)
{
	unsigned int i;

	if (r->pg_cap || capacity > XBG_PGNT_CAPACITY)
		return -EINVAL;
	r->pg_pages = kvcalloc(capacity, sizeof(*r->pg_pages), GFP_KERNEL);
	r->pg_handles = kvcalloc(capacity, sizeof(*r->pg_handles), GFP_KERNEL);
	if (!r->pg_pages || !r->pg_handles) {
		kvfree(r->pg_pages);
		kvfree(r->pg_handles);
		r->pg_pages = NULL;
		r->pg_handles = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < capacity; i++)
		r->pg_handles[i] = INVALID_GRANT_HANDLE;
	r->pg_cap = capacity;
	return 0;
}

int xbg_pgnt_map(struct xbg_ring *r, const unsigned int *slots, const unsigned int *grefs,
		 unsigned int n, unsigned char *ok)
{
	unsigned int i;
	int err;

	if (n > XBG_MAX_IO_SEGS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (slots[i] >= r->pg_cap || r->pg_handles[slots[i]] != INVALID_GRANT_HANDLE)
			return -EINVAL;
		if (!r->pg_pages[slots[i]] && gnttab_page_cache_get(&r->cache, &r->pg_pages[slots[i]]))
			return -ENOMEM;   /* pages taken so far stay with their slots */
	}
	/* read-write: a kept mapping serves reads and writes */
	for (i = 0; i < n; i++)
		gnttab_set_map_op(&r->map[i], xbg_vaddr(r->pg_pages[slots[i]]), GNTMAP_host_map,
				  grefs[i], r->gd->xd->otherend_id);
	for (i = 0; i < n; i++)
		r->tpages[i] = r->pg_pages[slots[i]];
	err = gnttab_map_refs(r->map, NULL, r->tpages, n);
	for (i = 0; i < n; i++) {
		ok[i] = r->map[i].status == GNTST_okay;
		if (ok[i]) {
			r->pg_handles[slots[i]] = r->map[i].handle;
			xb_rt_count_grants(1);
		}
	}
	return err ? 1 : 0;
}

const void *xbg_pgnt_addr(struct xbg_ring *r, unsigned int slot)
{
	return (const void *)xbg_vaddr(r->pg_pages[slot]);
}

void xbg_pgnt_unmap(struct xbg_ring *r, const unsigned int *slots, unsigned int n)
{
	unsigned int i, k = 0;
	int err;

	if (n > XBG_MAX_IO_SEGS)
		return;
	for (i = 0; i < n; i++) {
		unsigned int s = slots[i];

		if (s >= r->pg_cap || r->pg_handles[s] == INVALID_GRANT_HANDLE)
			continue;
		gnttab_set_unmap_op(&r->unmap[k], xbg_vaddr(r->pg_pages[s]), GNTMAP_host_map,
				    r->pg_handles[s]);
		r->tpages[k] = r->pg_pages[s];
		r->tidx[k++] = s;
		r->pg_handles[s] = INVALID_GRANT_HANDLE;
	}
	if (!k)
		return;
	err = gnttab_unmap_refs(r->unmap, NULL, r->tpages, k);
	if (err) {
		/* never reuse a page that may still be mapped */
		pr_err("xenblk-back: persistent grant unmap failed (%d); %u pages not reused\n", err, k);
		for (i = 0; i < k; i++)
			r->pg_pages[r->tidx[i]] = NULL;
		return;
	}
	xb_rt_count_grants(-(long)k);
}

/* Teardown: every kept mapping goes, then the pages return to the cache. */
void xbg_pgnt_release(struct xbg_ring *r)
{
	unsigned int s = 0, n, i;

	if (!r->pg_cap)
		return;
	while (s < r->pg_cap) {
		unsigned int slots[64];

		for (n = 0; s < r->pg_cap && n < ARRAY_SIZE(slots); s++)
			if (r->pg_handles[s] != INVALID_GRANT_HANDLE)
				slots[n++] = s;
		xbg_pgnt_unmap(r, slots, n);
	}
	for (i = 0; i < r->pg_cap; i++)
		if (r->pg_pages[i]) {
			gnttab_page_cache_put(&r->cache, &r->pg_pages[i], 1);
			r->pg_pages[i] = NULL;
		}
}

