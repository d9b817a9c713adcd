/* Showing a worker's full national ID and mobile, with a reason, audited by the service.
   What was shown belongs to one worker: opening another forgets it and the reason. */
import { reactive, ref } from "vue";
import { api } from "./http";
import { complain } from "./problems";

export function useReveal() {
  const shown = reactive<{ workerId: string | null; national_id: string | null; mobile: string | null }>({
    workerId: null,
    national_id: null,
    mobile: null,
  });
  const reason = ref("");

  function forget(): void {
    Object.assign(shown, { workerId: null, national_id: null, mobile: null });
    reason.value = "";
  }

  /** The full numbers of this worker, when they were revealed for this worker. */
  function of(workerId: string | undefined): { national_id: string | null; mobile: string | null } {
    return workerId && shown.workerId === workerId ? shown : { national_id: null, mobile: null };
  }

  async function reveal(workerId: string): Promise<boolean> {
    try {
      const answer = await api.post("/api/v1/workers/{worker_id}/reveal", {
        path: { worker_id: workerId },
        body: { fields: ["national_id", "mobile"], reason: reason.value.trim() },
      });
      Object.assign(shown, { workerId, national_id: answer.national_id ?? null, mobile: answer.mobile ?? null });
      return true;
    } catch (error) {
      complain(error);
      return false;
    }
  }

  return { reason, of, reveal, forget };
}
