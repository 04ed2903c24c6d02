/* ops: the agent's operation table (see ops.h). */
#include "ops.h"

#include "proto/ck-frame.h"
#include "clone.h"
#include "container.h"
#include "network.h"
#include "portfwd.h"
#include "sandbox.h"

static const CkVersionArgs version_defaults = {.protocol = CK_PROTO_VERSION};
static const CkCreateSandboxArgs sandbox_defaults = {.msize_9p = 512 * 1024};
static const CkCopyFileArgs copy_defaults = {.mode = 0644};

static const AgentOp ops[CK_OP_COUNT] = {
    [CK_OP_VERSION] = {CK_OP_VERSION, op_version, &version_defaults},
    [CK_OP_PING] = {CK_OP_PING, op_ping, NULL},
    [CK_OP_SHUTDOWN] = {CK_OP_SHUTDOWN, op_shutdown, NULL},
    [CK_OP_SETUP_NETWORK] = {CK_OP_SETUP_NETWORK, op_setup_network, NULL},
    [CK_OP_CREATE_SANDBOX] = {CK_OP_CREATE_SANDBOX, op_create_sandbox, &sandbox_defaults},
    [CK_OP_DESTROY_SANDBOX] = {CK_OP_DESTROY_SANDBOX, op_destroy_sandbox, NULL},
    [CK_OP_GUEST_DETAILS] = {CK_OP_GUEST_DETAILS, op_guest_details, NULL},
    [CK_OP_ONLINE_CPU_MEM] = {CK_OP_ONLINE_CPU_MEM, op_online_cpu_mem, NULL},
    [CK_OP_COPY_FILE] = {CK_OP_COPY_FILE, op_copy_file, &copy_defaults},
    [CK_OP_CREATE_CONTAINER] = {CK_OP_CREATE_CONTAINER, op_create_container, NULL},
    [CK_OP_START_CONTAINER] = {CK_OP_START_CONTAINER, op_start_container, NULL},
    [CK_OP_EXEC_PROCESS] = {CK_OP_EXEC_PROCESS, op_exec_process, NULL},
    [CK_OP_SIGNAL_PROCESS] = {CK_OP_SIGNAL_PROCESS, op_signal_process, NULL},
    [CK_OP_WAIT_PROCESS] = {CK_OP_WAIT_PROCESS, op_wait_process, NULL},
    [CK_OP_RESIZE_TERMINAL] = {CK_OP_RESIZE_TERMINAL, op_resize_terminal, NULL},
    [CK_OP_REMOVE_CONTAINER] = {CK_OP_REMOVE_CONTAINER, op_remove_container, NULL},
    [CK_OP_PAUSE_CONTAINER] = {CK_OP_PAUSE_CONTAINER, op_pause_container, NULL},
    [CK_OP_RESUME_CONTAINER] = {CK_OP_RESUME_CONTAINER, op_resume_container, NULL},
    [CK_OP_UPDATE_CONTAINER] = {CK_OP_UPDATE_CONTAINER, op_update_container, NULL},
    [CK_OP_STATS_CONTAINER] = {CK_OP_STATS_CONTAINER, op_stats_container, NULL},
    [CK_OP_STATE_CONTAINER] = {CK_OP_STATE_CONTAINER, op_state_container, NULL},
    [CK_OP_LIST_PROCESSES] = {CK_OP_LIST_PROCESSES, op_list_processes, NULL},
    [CK_OP_CONNECT_PORT] = {CK_OP_CONNECT_PORT, op_connect_port, NULL},
    [CK_OP_CLONE_IDENTITY] = {CK_OP_CLONE_IDENTITY, op_clone_identity, NULL},
};

const AgentTestOp *agent_test_ops;
gsize agent_n_test_ops;

const AgentOp *agent_op_find(CkOp op)
{
	return op < CK_OP_COUNT && ops[op].func != NULL ? &ops[op] : NULL;
}

const AgentTestOp *agent_test_op_find(const char *name)
{
	for (gsize i = 0; i < agent_n_test_ops; i++)
		if (g_str_equal(agent_test_ops[i].name, name))
			return &agent_test_ops[i];
	return NULL;
}
