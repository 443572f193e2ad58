// Slab pool entry points (assembly/mem/slab.ts): numbers in, numbers out, callable from any thread.
export {
  slab_init, slab_lease, slab_release, slab_size_of, slab_class_count, slab_class_size,
  slab_leased, slab_carved, slab_exhausted_total,
  slab_chunk_count, slab_chunks_used, slab_free_length,
} from "./slab";
