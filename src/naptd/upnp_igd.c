/* SPDX-License-Identifier: BSD-2-Clause */
/* upnp_igd.c - the UPnP device on pupnp: its description, the hand-over of action requests
 * from the library's threads to the event loop, and GENA's ExternalIPAddress. */
#include "upnp_lib.h" /* first: it undoes pupnp's bool macros */

#include <arpa/inet.h>
#include <errno.h>
#include <cap-ng.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "daemon_log.h"
#include "naptd.h"
#include "pcp_server.h"
#include "upnp_actions.h"
#include "upnp_guard.h"
#include "upnp_igd.h"

#define SERVICE_TYPE "urn:schemas-upnp-org:service:WANIPConnection:2"
#define SERVICE_ID   "urn:upnp-org:serviceId:WANIPConn1"
#define SCPD_DIR     "/napt"
#define SCPD_PATH    SCPD_DIR "/WANIPCn.xml"
#define CIF_PATH     SCPD_DIR "/WANCfg.xml"
/* Requests waiting for the loop at most; one more is answered 501 at once. */
#define QUEUE_MAX 64
/* Requests the loop runs per turn: each is a few lookups among at most 256 leases. */
#define RUN_PER_TURN 32
/* How long a library thread waits for the loop before answering 501. */
#define WAIT_S 3
/* SSDP announcements' max-age (UDA 1.1 section 1.2.2: at least 1800 s). */
#define ADVERT_S 1800
/* GENA subscriptions kept at most, and their longest life (UDA 1.1 section 4.1.1: the
 * publisher may shorten it): a LAN host cannot fill memory with them. */
#define MAX_SUBSCRIPTIONS 32
#define SUBSCRIPTION_S    1800
/* The library threads' niceness: below the loop's (0), above nothing else. */
#define UPNP_NICE 10

enum job_state { JOB_QUEUED, JOB_TAKEN };

struct upnp_job {
	struct upnp_call call;
	struct upnp_answer answer;
	enum job_state state;
	sem_t done; /* posted by the loop when answered, or by close */
	struct upnp_job *next;
};

struct upnp_igd {
	struct naptd *d;
	int efd;
	UpnpDevice_Handle handle;
	bool registered;
	char udn[48]; /* the root device's; its devices add -0, -1, -2 */
	char service_udn[52];
	char *desc;
	pthread_mutex_t mu; /* guards what follows and the jobs' state */
	struct upnp_job *head;
	unsigned queued;
	bool closing;
	char ext_ip[INET_ADDRSTRLEN]; /* for new subscribers (GENA's initial event) */
	unsigned entries;             /* PortMappingNumberOfEntries, as last evented */
	/* The GENA events (address and lease count changes) are sent by a thread of the
	 * library's kind: a thread the library makes from the loop's would hold its
	 * capabilities. */
	sem_t notify;
	pthread_t notifier;
	bool notifier_running;
};

/* ---- the description (UDA 1.1 section 2.3) and the service's SCPD (section 2.5) ---- */

#define ARG(n, dir, var)                                                                           \
	"<argument><name>" n "</name><direction>" dir "</direction><relatedStateVariable>" var     \
	"</relatedStateVariable></argument>"
#define ENTRY_IN                                                                                   \
	ARG("NewRemoteHost", "in", "RemoteHost")                                                   \
	ARG("NewExternalPort", "in", "ExternalPort") ARG("NewProtocol", "in", "PortMappingProtocol")
#define MAPPING_IN                                                                                 \
	ENTRY_IN ARG("NewInternalPort", "in", "InternalPort")                                      \
	    ARG("NewInternalClient", "in", "InternalClient")                                       \
		ARG("NewEnabled", "in", "PortMappingEnabled")                                      \
		    ARG("NewPortMappingDescription", "in", "PortMappingDescription")               \
			ARG("NewLeaseDuration", "in", "PortMappingLeaseDuration")
#define ENTRY_OUT                                                                                  \
	ARG("NewInternalPort", "out", "InternalPort")                                              \
	ARG("NewInternalClient", "out", "InternalClient")                                          \
	ARG("NewEnabled", "out", "PortMappingEnabled")                                             \
	ARG("NewPortMappingDescription", "out", "PortMappingDescription")                          \
	ARG("NewLeaseDuration", "out", "PortMappingLeaseDuration")
#define ACTION(n, args) "<action><name>" n "</name><argumentList>" args "</argumentList></action>"
#define VAR(ev, n, type)                                                                           \
	"<stateVariable sendEvents=\"" ev "\"><name>" n "</name><dataType>" type                   \
	"</dataType></stateVariable>"

static const char scpd[] =
    "<?xml version=\"1.0\"?>\n"
    "<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\"><specVersion><major>1</major>"
    "<minor>0</minor></specVersion><actionList>" ACTION(
	"GetExternalIPAddress", ARG("NewExternalIPAddress", "out", "ExternalIPAddress"))
	ACTION("GetStatusInfo",
	       ARG("NewConnectionStatus", "out", "ConnectionStatus")
		   ARG("NewLastConnectionError", "out", "LastConnectionError")
		       ARG("NewUptime", "out", "Uptime")) ACTION("AddPortMapping", MAPPING_IN)
	    ACTION("AddAnyPortMapping", MAPPING_IN ARG("NewReservedPort", "out", "ExternalPort"))
		ACTION("DeletePortMapping", ENTRY_IN) ACTION(
		    "GetGenericPortMappingEntry",
		    ARG("NewPortMappingIndex", "in", "PortMappingNumberOfEntries")
			ARG("NewRemoteHost", "out", "RemoteHost")
			    ARG("NewExternalPort", "out", "ExternalPort")
				ARG("NewProtocol", "out", "PortMappingProtocol") ENTRY_OUT)
		    ACTION("GetSpecificPortMappingEntry",
			   ENTRY_IN
			       ENTRY_OUT) "</actionList><serviceStateTable>" VAR("no",
										 "ConnectionStatus",
										 "string")
			VAR("no", "LastConnectionError", "string") VAR("no", "Uptime", "ui4") VAR(
			    "yes", "ExternalIPAddress", "string") VAR("no", "RemoteHost", "string")
			    VAR("no", "ExternalPort", "ui2") VAR("no", "InternalPort", "ui2")
				VAR("no", "PortMappingProtocol", "string")
				    VAR("no", "InternalClient", "string")
					VAR("no", "PortMappingEnabled", "boolean")
					    VAR("no", "PortMappingDescription", "string")
						VAR("no", "PortMappingLeaseDuration", "ui4")
						    VAR("yes", "PortMappingNumberOfEntries",
							"ui2") "</serviceStateTable></scpd>\n";

/* WANCommonInterfaceConfig: clients look for it to call the device an IGD (miniupnpc's
 * UPNP_GetValidIGD); none of its optional actions is offered (401 Invalid Action). */
static const char cif_scpd[] =
    "<?xml version=\"1.0\"?>\n"
    "<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\"><specVersion><major>1</major>"
    "<minor>0</minor></specVersion><actionList></actionList><serviceStateTable>" VAR(
	"no", "WANAccessType", "string") "</serviceStateTable></scpd>\n";

/* The files of the virtual directory. */
static const struct scpd_file {
	const char *path, *text;
	size_t len;
} scpd_files[] = {{SCPD_PATH, scpd, sizeof(scpd) - 1}, {CIF_PATH, cif_scpd, sizeof(cif_scpd) - 1}};

/* The root device InternetGatewayDevice:2 holds WANDevice:2, which holds
 * WANConnectionDevice:2, which offers WANIPConnection:2 (IGD:2 section 2.1). The library
 * serves it and sets its URLBase (UPNPREG_BUF_DESC with config_baseURL). */
static char *make_description(const char *udn)
{
	static const char fmt[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<root xmlns=\"urn:schemas-upnp-org:device-1-0\"><specVersion><major>1</major>"
	    "<minor>0</minor></specVersion><device>"
	    "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>"
	    "<friendlyName>naptd</friendlyName><manufacturer>napt</manufacturer>"
	    "<modelName>naptd</modelName><UDN>%s-0</UDN><deviceList><device>"
	    "<deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType>"
	    "<friendlyName>WAN</friendlyName><manufacturer>napt</manufacturer>"
	    "<modelName>naptd</modelName><UDN>%s-1</UDN><serviceList><service>"
	    "<serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType>"
	    "<serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId>"
	    "<SCPDURL>" CIF_PATH "</SCPDURL><controlURL>/ctl/CmnIfCfg</controlURL>"
	    "<eventSubURL>/evt/CmnIfCfg</eventSubURL></service></serviceList><deviceList><device>"
	    "<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>"
	    "<friendlyName>WAN connection</friendlyName><manufacturer>napt</manufacturer>"
	    "<modelName>naptd</modelName><UDN>%s-2</UDN><serviceList><service>"
	    "<serviceType>" SERVICE_TYPE "</serviceType><serviceId>" SERVICE_ID "</serviceId>"
	    "<SCPDURL>" SCPD_PATH "</SCPDURL><controlURL>/ctl/IPConn</controlURL>"
	    "<eventSubURL>/evt/IPConn</eventSubURL></service></serviceList>"
	    "</device></deviceList></device></deviceList></device></root>\n";
	size_t cap = sizeof(fmt) + 3 * strlen(udn);
	char *desc = malloc(cap);

	if (desc)
		snprintf(desc, cap, fmt, udn, udn, udn);
	return desc;
}

/* A random UUID (RFC 4122 section 4.4), new at each start. */
static void make_udn(char *udn, size_t cap)
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		time_t t = time(NULL);

		memset(b, 0x5a, sizeof(b));
		memcpy(b, &t, sizeof(t));
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(udn, cap,
		 "uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

/* ---- the SCPD from memory: the web server's virtual directory ---- */

struct scpd_reader {
	const struct scpd_file *file;
	size_t at;
};

static const struct scpd_file *scpd_file(const char *name)
{
	for (size_t i = 0; i < sizeof(scpd_files) / sizeof(scpd_files[0]); i++)
		if (strcmp(name, scpd_files[i].path) == 0)
			return &scpd_files[i];
	return NULL;
}

static int scpd_info(const char *name, UpnpFileInfo *info, const void *cookie)
{
	const struct scpd_file *f = scpd_file(name);

	(void)cookie;
	if (!f)
		return -1;
	UpnpFileInfo_set_FileLength(info, (off_t)f->len);
	UpnpFileInfo_set_LastModified(info, 0);
	UpnpFileInfo_set_IsDirectory(info, 0);
	UpnpFileInfo_set_IsReadable(info, 1);
	UpnpFileInfo_set_ContentType(info, ixmlCloneDOMString("text/xml"));
	return 0;
}

static UpnpWebFileHandle scpd_open(const char *name, enum UpnpOpenFileMode mode, const void *cookie)
{
	const struct scpd_file *f = scpd_file(name);
	struct scpd_reader *r = f && mode == UPNP_READ ? calloc(1, sizeof(*r)) : NULL;

	(void)cookie;
	if (r)
		r->file = f;
	return r;
}

static int scpd_read(UpnpWebFileHandle h, char *buf, size_t len, const void *cookie)
{
	struct scpd_reader *r = h;
	size_t left = r->file->len - r->at;

	(void)cookie;
	if (len > left)
		len = left;
	memcpy(buf, r->file->text + r->at, len);
	r->at += len;
	return (int)len;
}

static int scpd_write(UpnpWebFileHandle h, char *buf, size_t len, const void *cookie)
{
	(void)h;
	(void)buf;
	(void)len;
	(void)cookie;
	return -1;
}

static int scpd_seek(UpnpWebFileHandle h, off_t off, int origin, const void *cookie)
{
	struct scpd_reader *r = h;
	off_t end = (off_t)r->file->len;
	off_t base = origin == SEEK_CUR ? (off_t)r->at : origin == SEEK_END ? end : 0;

	(void)cookie;
	if (base + off < 0 || base + off > end)
		return -1;
	r->at = (size_t)(base + off);
	return 0;
}

static int scpd_close(UpnpWebFileHandle h, const void *cookie)
{
	(void)cookie;
	free(h);
	return 0;
}

static int serve_scpd(void)
{
	if (UpnpVirtualDir_set_GetInfoCallback(scpd_info) != UPNP_E_SUCCESS ||
	    UpnpVirtualDir_set_OpenCallback(scpd_open) != UPNP_E_SUCCESS ||
	    UpnpVirtualDir_set_ReadCallback(scpd_read) != UPNP_E_SUCCESS ||
	    UpnpVirtualDir_set_WriteCallback(scpd_write) != UPNP_E_SUCCESS ||
	    UpnpVirtualDir_set_SeekCallback(scpd_seek) != UPNP_E_SUCCESS ||
	    UpnpVirtualDir_set_CloseCallback(scpd_close) != UPNP_E_SUCCESS)
		return -1;
	return UpnpAddVirtualDir(SCPD_DIR, NULL, NULL) == UPNP_E_SUCCESS ? 0 : -1;
}

/* ---- the hand-over: library thread -> event loop -> library thread ---- */

static void wake_loop(struct upnp_igd *u)
{
	uint64_t one = 1;

	if (write(u->efd, &one, sizeof(one)) != (ssize_t)sizeof(one) && errno != EAGAIN)
		daemon_log(LOG_WARNING, "upnp: eventfd: %s", strerror(errno));
}

static void unlink_job(struct upnp_igd *u, struct upnp_job *job)
{
	for (struct upnp_job **p = &u->head; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			u->queued--;
			return;
		}
}

/* Queues job (under mu); false when the queue is full or closing. */
static bool enqueue(struct upnp_igd *u, struct upnp_job *job)
{
	struct upnp_job **tail;

	if (u->queued >= QUEUE_MAX || u->closing)
		return false;
	for (tail = &u->head; *tail; tail = &(*tail)->next)
		;
	*tail = job;
	u->queued++;
	return true;
}

/* The job's answer, or WAIT_S gone by. */
static bool answered(struct upnp_job *job, const struct timespec *until)
{
	int rc;

	while ((rc = sem_clockwait(&job->done, CLOCK_MONOTONIC, until)) != 0 && errno == EINTR)
		;
	return rc == 0;
}

/* Runs job in the loop and waits for its answer. A job the loop has not taken within
 * WAIT_S is withdrawn (501); one it took is finished in a moment (no I/O in it). The lock
 * is held for list operations only, never across a system call: the loop only tries it. */
static void run_in_loop(struct upnp_igd *u, struct upnp_job *job)
{
	struct timespec until;
	bool queued, first;

	sem_init(&job->done, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += WAIT_S;
	job->answer.error = UPNP_ERR_ACTION_FAILED;
	pthread_mutex_lock(&u->mu);
	queued = enqueue(u, job);
	first = queued && u->queued == 1;
	pthread_mutex_unlock(&u->mu);
	if (first)
		wake_loop(u); /* the loop takes all that wait at once */
	if (queued && !answered(job, &until)) {
		pthread_mutex_lock(&u->mu);
		bool taken = job->state != JOB_QUEUED;
		if (!taken)
			unlink_job(u, job);
		pthread_mutex_unlock(&u->mu);
		if (taken)
			while (sem_wait(&job->done) != 0 && errno == EINTR)
				;
	}
	sem_destroy(&job->done);
}

/* Up to RUN_PER_TURN waiting jobs. The loop never waits for the lock: a library thread
 * that holds it may be off the CPU; busy, the loop comes back at its next turn. */
static unsigned take_jobs(struct upnp_igd *u, struct upnp_job **jobs)
{
	unsigned n = 0;
	bool more;

	if (pthread_mutex_trylock(&u->mu) != 0) {
		wake_loop(u);
		return 0;
	}
	for (; n < RUN_PER_TURN && u->head; n++) {
		jobs[n] = u->head;
		u->head = jobs[n]->next;
		u->queued--;
		jobs[n]->state = JOB_TAKEN;
	}
	more = u->head != NULL;
	pthread_mutex_unlock(&u->mu);
	if (more)
		wake_loop(u); /* the next turn, after the packets */
	return n;
}

void upnp_igd_dispatch(struct upnp_igd *u)
{
	struct upnp_job *jobs[RUN_PER_TURN];
	uint64_t count;
	unsigned n;

	if (read(u->efd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		return;
	n = take_jobs(u, jobs);
	for (unsigned i = 0; i < n; i++) {
		upnp_call_run(u->d, &jobs[i]->call, &jobs[i]->answer);
		sem_post(&jobs[i]->done); /* the job belongs to its thread again */
	}
}

/* ---- the library's callbacks (its threads) ---- */

/* An argument of the SOAP request: the text of the one element of that name (none, or two
 * of them: NULL, the request is refused). */
static const char *soap_arg(void *ctx, const char *name)
{
	IXML_NodeList *list = ixmlDocument_getElementsByTagName(ctx, name);
	const char *text = NULL;

	if (list && ixmlNodeList_length(list) == 1) {
		IXML_Node *child = ixmlNode_getFirstChild(ixmlNodeList_item(list, 0));

		text = child ? ixmlNode_getNodeValue(child) : "";
	}
	ixmlNodeList_free(list);
	return text;
}

static void answer_error(UpnpActionRequest *req, enum upnp_error e)
{
	static const struct {
		enum upnp_error e;
		const char *text;
	} texts[] = {{UPNP_ERR_INVALID_ACTION, "Invalid Action"},
		     {UPNP_ERR_INVALID_ARGS, "Invalid Args"},
		     {UPNP_ERR_NOT_AUTHORIZED, "Action not authorized"},
		     {UPNP_ERR_ARRAY_INDEX_INVALID, "SpecifiedArrayIndexInvalid"},
		     {UPNP_ERR_NO_SUCH_ENTRY, "NoSuchEntryInArray"},
		     {UPNP_ERR_WILDCARD_EXT_PORT, "WildCardNotPermittedInExtPort"},
		     {UPNP_ERR_CONFLICT, "ConflictInMappingEntry"},
		     {UPNP_ERR_REMOTE_HOST_WILDCARD, "RemoteHostOnlySupportsWildcard"},
		     {UPNP_ERR_NO_PORT_MAPS, "NoPortMapsAvailable"}};
	const char *text = "Action Failed";

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].e == e)
			text = texts[i].text;
	UpnpActionRequest_set_ErrCode(req, (int)e);
	UpnpActionRequest_strcpy_ErrStr(req, text);
	UpnpActionRequest_set_ActionResult(req, NULL);
}

static void answer_values(UpnpActionRequest *req, const struct upnp_job *job)
{
	const char *action = UpnpActionRequest_get_ActionName_cstr(req);
	IXML_Document *resp = UpnpMakeActionResponse(action, SERVICE_TYPE, 0, NULL);
	char val[RUNTIME_DESC_MAX + 16];
	const char *name;

	for (unsigned i = 0;
	     resp && (name = upnp_answer_arg(&job->call, &job->answer, i, val, sizeof(val))); i++)
		UpnpAddToActionResponse(&resp, action, SERVICE_TYPE, name, val);
	if (!resp) {
		answer_error(req, UPNP_ERR_ACTION_FAILED);
		return;
	}
	UpnpActionRequest_set_ErrCode(req, UPNP_E_SUCCESS);
	UpnpActionRequest_set_ActionResult(req, resp);
}

static void on_action(struct upnp_igd *u, UpnpActionRequest *req)
{
	const struct sockaddr_storage *from = UpnpActionRequest_get_CtrlPtIPAddr(req);
	struct upnp_job job = {.state = JOB_QUEUED};
	enum upnp_error e;

	/* IPv4 only: a host maps itself, by its IPv4 address. */
	if (from->ss_family != AF_INET) {
		answer_error(req, UPNP_ERR_NOT_AUTHORIZED);
		return;
	}
	if (strcmp(UpnpActionRequest_get_ServiceID_cstr(req), SERVICE_ID) != 0) {
		answer_error(req, UPNP_ERR_INVALID_ACTION); /* WANCommonInterfaceConfig's */
		return;
	}
	e = upnp_call_parse(UpnpActionRequest_get_ActionName_cstr(req), soap_arg,
			    UpnpActionRequest_get_ActionRequest(req),
			    ((const struct sockaddr_in *)from)->sin_addr.s_addr, &job.call);
	if (e == UPNP_ERR_NONE) {
		run_in_loop(u, &job);
		e = job.answer.error;
	}
	if (e != UPNP_ERR_NONE)
		answer_error(req, e);
	else
		answer_values(req, &job);
}

/* The guard's question before a new GENA subscription (upnp_guard.h): the loop answers it
 * as it answers GetExternalIPAddress, 606 for a host it does not serve. */
static bool host_served(void *cookie, uint32_t host)
{
	struct upnp_job job = {.call = {.action = UPNP_GET_EXTERNAL_IP, .client = host},
			       .state = JOB_QUEUED};

	run_in_loop(cookie, &job);
	return job.answer.error == UPNP_ERR_NONE;
}

/* WANIPConnection:2's evented variables (section 2.2, sendEvents yes) and their values now;
 * each event carries both (UDA 1.1 section 4.3: one or more variables a message). */
#define EVENTED 2
static const char *evented_names[EVENTED] = {"ExternalIPAddress", "PortMappingNumberOfEntries"};
struct evented {
	char ip[INET_ADDRSTRLEN], entries[12];
	const char *values[EVENTED];
	bool closing;
};

static void evented_now(struct upnp_igd *u, struct evented *e)
{
	pthread_mutex_lock(&u->mu);
	memcpy(e->ip, u->ext_ip, sizeof(e->ip));
	snprintf(e->entries, sizeof(e->entries), "%u", u->entries);
	e->closing = u->closing;
	pthread_mutex_unlock(&u->mu);
	e->values[0] = e->ip;
	e->values[1] = e->entries;
}

/* GENA (UDA 1.1 section 4.1.2): a new subscriber hears the evented variables at once. */
static void on_subscribe(struct upnp_igd *u, const UpnpSubscriptionRequest *req)
{
	const char *service = UpnpSubscriptionRequest_get_ServiceId_cstr(req);
	struct evented e;

	evented_now(u, &e);
	UpnpAcceptSubscription(u->handle, UpnpSubscriptionRequest_get_UDN_cstr(req), service,
			       evented_names, e.values,
			       strcmp(service, SERVICE_ID) == 0 ? EVENTED : 0,
			       UpnpSubscriptionRequest_get_SID_cstr(req));
}

static int on_event(Upnp_EventType type, const void *event, void *cookie)
{
	struct upnp_igd *u = cookie;

	if (type == UPNP_CONTROL_ACTION_REQUEST)
		on_action(u, (UpnpActionRequest *)(uintptr_t)event);
	else if (type == UPNP_EVENT_SUBSCRIPTION_REQUEST)
		on_subscribe(u, event);
	else if (type == UPNP_CONTROL_GET_VAR_REQUEST) /* QueryStateVariable: deprecated */
		UpnpStateVarRequest_set_ErrCode((UpnpStateVarRequest *)(uintptr_t)event,
						UPNP_ERR_INVALID_ACTION);
	return 0;
}

/* ---- set-up ---- */

/* The first external address, for GENA: with several (pooling), each host's own is what
 * GetExternalIPAddress answers it. */
static void note_external(struct upnp_igd *u)
{
	struct in_addr a = {.s_addr = pcp_server_external_of(u->d->pcp, 0)};

	pthread_mutex_lock(&u->mu);
	inet_ntop(AF_INET, &a, u->ext_ip, sizeof(u->ext_ip));
	pthread_mutex_unlock(&u->mu);
}

static int start_library(struct upnp_igd *u, char *err, size_t errlen)
{
	const char *lan = u->d->file_cfg.daemon.lan_interface;
	int rc = UpnpInit2(lan, 0);

	if (rc != UPNP_E_SUCCESS) {
		snprintf(err, errlen, "upnp: cannot start on lan-interface %s: %s", lan,
			 UpnpGetErrorMessage(rc));
		return -1;
	}
	if (upnp_guard_install(lan, &u->d->upnp_refused, host_served, u, err, errlen) != 0)
		return -1;
	u->desc = make_description(u->udn);
	if (!u->desc || serve_scpd() != 0 ||
	    (rc = UpnpRegisterRootDevice2(UPNPREG_BUF_DESC, u->desc, strlen(u->desc), 1, on_event,
					  u, &u->handle)) != UPNP_E_SUCCESS) {
		snprintf(err, errlen, "upnp: cannot register the device: %s",
			 UpnpGetErrorMessage(rc));
		return -1;
	}
	u->registered = true;
	UpnpSetMaxSubscriptions(u->handle, MAX_SUBSCRIPTIONS);
	UpnpSetMaxSubscriptionTimeOut(u->handle, SUBSCRIPTION_S);
	rc = UpnpSendAdvertisement(u->handle, ADVERT_S);
	if (rc != UPNP_E_SUCCESS) {
		snprintf(err, errlen, "upnp: cannot announce: %s", UpnpGetErrorMessage(rc));
		return -1;
	}
	daemon_log(LOG_INFO, "upnp: IGD on %s:%u (lan-interface %s)", UpnpGetServerIpAddress(),
		   UpnpGetServerPort(), lan);
	return 0;
}

/* Sends the evented variables to the subscribers each time the loop posts u->notify (UDA
 * 1.1 section 4.3: the library sends the NOTIFYs from its own threads). */
static void *notifier_main(void *arg)
{
	struct upnp_igd *u = arg;
	struct evented e;

	for (;;) {
		while (sem_wait(&u->notify) != 0 && errno == EINTR)
			;
		evented_now(u, &e);
		if (e.closing)
			return NULL;
		if (UpnpNotify(u->handle, u->service_udn, SERVICE_ID, evented_names, e.values,
			       EVENTED) != UPNP_E_SUCCESS)
			daemon_log(LOG_WARNING, "upnp: cannot event address %s, %s mappings", e.ip,
				   e.entries);
	}
}

struct library_start {
	struct upnp_igd *u;
	char *err;
	size_t errlen;
	int rc;
};

/* The library's threads are made by the thread that starts it and inherit its
 * capabilities and niceness, both kept per thread by Linux: this one drops every
 * capability and lowers its priority first, so the library's threads hold none and, woken
 * by the loop with an answer, do not take the CPU from it (test_upnp.sh's burst). */
static void *start_thread(void *arg)
{
	struct library_start *ls = arg;

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_BOTH) != 0) {
		snprintf(ls->err, ls->errlen, "upnp: cannot drop the capabilities");
		return NULL;
	}
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), UPNP_NICE) != 0)
		daemon_log(LOG_WARNING, "upnp: nice %d: %s", UPNP_NICE, strerror(errno));
	ls->rc = start_library(ls->u, ls->err, ls->errlen);
	if (ls->rc == 0 && pthread_create(&ls->u->notifier, NULL, notifier_main, ls->u) != 0) {
		snprintf(ls->err, ls->errlen, "upnp: cannot start the event thread");
		ls->rc = -1;
	}
	ls->u->notifier_running = ls->rc == 0;
	return NULL;
}

static int start_apart(struct upnp_igd *u, char *err, size_t errlen)
{
	struct library_start ls = {u, err, errlen, -1};
	pthread_t t;
	int e = pthread_create(&t, NULL, start_thread, &ls);

	if (e != 0) {
		snprintf(err, errlen, "upnp: thread: %s", strerror(e));
		return -1;
	}
	pthread_join(t, NULL);
	return ls.rc;
}

int upnp_igd_open(struct naptd *d, struct upnp_igd **out, char *err, size_t errlen)
{
	struct upnp_igd *u;

	*out = NULL;
	if (!d->file_cfg.daemon.upnp)
		return 0;
	u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "upnp: out of memory");
		return -1;
	}
	u->d = d;
	pthread_mutex_init(&u->mu, NULL);
	sem_init(&u->notify, 0, 0);
	make_udn(u->udn, sizeof(u->udn));
	snprintf(u->service_udn, sizeof(u->service_udn), "%s-2", u->udn);
	note_external(u);
	u->entries = d->runtime.n_leases;
	u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->efd < 0 || start_apart(u, err, errlen) != 0) {
		if (u->efd < 0)
			snprintf(err, errlen, "upnp: eventfd: %s", strerror(errno));
		upnp_igd_close(u);
		return -1;
	}
	*out = u;
	return 0;
}

int upnp_igd_fd(const struct upnp_igd *u)
{
	return u->efd;
}

void upnp_igd_address_changed(struct upnp_igd *u)
{
	if (!u)
		return;
	note_external(u);
	sem_post(&u->notify);
}

void upnp_igd_leases_changed(struct upnp_igd *u)
{
	unsigned n;

	if (!u)
		return;
	n = u->d->runtime.n_leases;
	pthread_mutex_lock(&u->mu);
	bool same = n == u->entries;
	u->entries = n;
	pthread_mutex_unlock(&u->mu);
	if (!same)
		sem_post(&u->notify);
}

void upnp_igd_close(struct upnp_igd *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->mu);
	u->closing = true; /* waiting threads answer 501 and return: UpnpFinish joins them */
	while (u->head) {
		struct upnp_job *j = u->head;

		u->head = j->next;
		u->queued--;
		j->state = JOB_TAKEN;
		sem_post(&j->done);
	}
	pthread_mutex_unlock(&u->mu);
	if (u->notifier_running) {
		sem_post(&u->notify);
		pthread_join(u->notifier, NULL);
	}
	if (u->registered)
		UpnpUnRegisterRootDevice(u->handle);
	UpnpFinish();
	if (u->efd >= 0)
		close(u->efd);
	sem_destroy(&u->notify);
	pthread_mutex_destroy(&u->mu);
	free(u->desc);
	free(u);
}
