/* timeline.c - `wedge replay TOKEN --timeline out.html`: one self-contained HTML page of the
 * first replay's interleaving.
 *
 * A lane per thread, its events in the run's global order left to right, the decisions wedge
 * injected marked, the racing accesses of the conclusion highlighted and joined by a line;
 * hovering an event shows its site and stack.  No network: the data is a JSON block in the
 * page, drawn as SVG by a short script in the page.  The script checks what it drew and writes
 * the counts into the page (#selfcheck), so that a headless browser's DOM dump tells whether it
 * rendered (tests/e2e/timeline.sh).
 */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int is_mem_kind(unsigned k)
{
    return k == WEDGE_EV_MEM_READ || k == WEDGE_EV_MEM_WRITE;
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>wedge timeline</title>\n<style>\n"
    "body{font:13px system-ui,sans-serif;margin:16px;color:#222;background:#fff}\n"
    "h1{font-size:17px;margin:0 0 4px}.meta{color:#555;margin:0 0 10px;white-space:pre-wrap}\n"
    "#wrap{overflow:auto;border:1px solid #ccc}svg text{font:12px monospace}\n"
    ".ev{fill:#8aa4c8}.ev.mem{fill:#7fbf7f}.ev.sync{fill:#c9a0dc}.ev.act{fill:#f0a030}\n"
    ".ev.race{fill:#e02020;stroke:#700;stroke-width:2}.link{stroke:#e02020;stroke-width:2;"
    "fill:none;stroke-dasharray:5 3}.lane{stroke:#ddd}.mark{fill:#f0a030}\n"
    "#tip{position:fixed;display:none;background:#222;color:#eee;padding:6px 8px;"
    "font:12px monospace;white-space:pre;border-radius:4px;pointer-events:none}\n"
    ".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;"
    "vertical-align:middle}\n</style></head><body>\n";

static const char page_script[] =
    "<script>\n"
    "(function(){\n"
    "var check=document.getElementById('selfcheck');\n"
    "window.addEventListener('error',function(e){check.textContent='selfcheck: error '+e.message;});\n"
    "var d=JSON.parse(document.getElementById('data').textContent);\n"
    "var NS='http://www.w3.org/2000/svg',W=14,G=4,LH=28,X0=150,Y0=30;\n"
    "var lanes={},order=[];d.threads.forEach(function(t,i){lanes[t.slot]=i;order.push(t);});\n"
    "var svg=document.createElementNS(NS,'svg');\n"
    "var width=X0+d.events.length*(W+G)+40,height=Y0+order.length*LH+20;\n"
    "svg.setAttribute('width',width);svg.setAttribute('height',height);\n"
    "function el(n,a){var e=document.createElementNS(NS,n);for(var k in a)e.setAttribute(k,a[k]);"
    "svg.appendChild(e);return e;}\n"
    "order.forEach(function(t,i){var y=Y0+i*LH;el('line',{x1:X0,y1:y+W/2,x2:width,y2:y+W/2,"
    "'class':'lane'});var tx=el('text',{x:4,y:y+W-2});tx.textContent=t.label;});\n"
    "var tip=document.getElementById('tip'),pos={},drawn=0,races=0,acts=0;\n"
    "d.events.forEach(function(e,i){var x=X0+i*(W+G),y=Y0+lanes[e.slot]*LH;\n"
    " var c='ev '+e.cls+(e.act?' act':'')+(e.race?' race':'');\n"
    " var r=el('rect',{x:x,y:y,width:W,height:W,rx:3,'class':c,'data-seq':e.seq});\n"
    " pos[e.seq]=[x+W/2,y+W/2];drawn++;if(e.race)races++;\n"
    " if(e.act){acts++;el('path',{d:'M'+x+' '+(y-2)+'l'+(W/2)+' -7l'+(W/2)+' 7z','class':'mark'});}\n"
    " r.addEventListener('mousemove',function(ev){tip.style.display='block';"
    "tip.style.left=(ev.clientX+12)+'px';tip.style.top=(ev.clientY+12)+'px';"
    "tip.textContent='#'+e.seq+' T'+e.slot+' '+e.kind+(e.obj?' '+e.obj:'')+"
    "(e.act?'\\ninjected: '+e.act:'')+'\\nat '+e.site+(e.stack.length?'\\n'+e.stack.map("
    "function(s,k){return '  #'+k+' '+s;}).join('\\n'):'')+(e.race?'\\nracing: '+e.race:'');});\n"
    " r.addEventListener('mouseleave',function(){tip.style.display='none';});});\n"
    "var links=0;for(var i=0;i+1<d.race.length;i++){var a=pos[d.race[i]],b=pos[d.race[i+1]];"
    "if(!a||!b)continue;var my=Math.min(a[1],b[1])-18;"
    "el('path',{d:'M'+a[0]+' '+a[1]+' C'+a[0]+' '+my+' '+b[0]+' '+my+' '+b[0]+' '+b[1],"
    "'class':'link'});links++;}\n"
    "var wrap=document.getElementById('wrap');wrap.appendChild(svg);\n"
    "if(d.race.length&&pos[d.race[0]])wrap.scrollLeft=Math.max(0,pos[d.race[0]][0]-X0-200);\n"
    "if(check.textContent.indexOf('error')<0)check.textContent='selfcheck: ok lanes='+"
    "order.length+' events='+drawn+' racing='+races+' links='+links+' injected='+acts;\n"
    "})();\n</script>\n";

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* JSON inside a <script> block: "</" must not appear in it */
static void script_json_str(FILE *f, const char *s)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m)
        return;
    report_json_str(m, s);
    fclose(m);
    for (const char *p = buf; p && *p; p++) {
        if (*p == '<')
            fputs("\\u003c", f);
        else
            fputc(*p, f);
    }
    free(buf);
}

int timeline_write(const char *path, const struct wedge_config *cfg, const struct job *job,
                   const struct outcome *oc, const struct conclusion *c)
{
    const struct wedge_shm_header *h = job->shm ? job->shm->hdr : NULL;
    if (!h)
        return -1;
    uint32_t nt = atomic_load(&h->nthreads);
    if (nt > WEDGE_MAX_THREADS)
        nt = WEDGE_MAX_THREADS;
    size_t n = 0;
    struct run_event *all = run_events(h, &n);
    if (!all)
        return -1;

    /* the racing accesses, in order: the conclusion's, or a deadlock's acquisitions */
    uint64_t race[CONC_MAX_LOCKS * 2 + 3];
    const char *race_role[CONC_MAX_LOCKS * 2 + 3];
    size_t nrace = 0;
    for (int i = 0; i < c->nacc; i++) {
        race_role[nrace] = c->acc[i].role;
        race[nrace++] = c->acc[i].seq;
    }
    for (unsigned i = 0; i < c->nlocks; i++) {
        race_role[nrace] = "holds the lock the other thread waits for";
        race[nrace++] = c->locks[i].acquired.seq;
    }

    FILE *f = fopen(path, "we");
    if (!f) {
        usage_error("cannot write %s: %s", path, strerror(errno));
        free(all);
        return -1;
    }
    char desc[256], line[1024];
    describe_outcome(desc, sizeof desc, oc, cfg->timeout_us);
    conclusion_line(line, sizeof line, h, c);
    fputs(page_head, f);
    fputs("<h1>wedge timeline: ", f);
    html_text(f, job->token);
    fputs("</h1>\n<p class=\"meta\">", f);
    html_text(f, cfg->argv[0]);
    fputs("\noutcome: ", f);
    html_text(f, desc);
    if (line[0]) {
        fputs("\nconclusion: ", f);
        html_text(f, line);
    }
    fprintf(f, "\n%zu events of %u threads (each thread's last %u)</p>\n", n, nt,
            WEDGE_RING_EVENTS);
    fputs("<div class=\"legend\"><span style=\"background:#c9a0dc\"></span>sync"
          "<span style=\"background:#7fbf7f\"></span>memory access"
          "<span style=\"background:#8aa4c8\"></span>other"
          "<span style=\"background:#f0a030\"></span>injected decision"
          "<span style=\"background:#e02020\"></span>racing access (joined by a dashed line)"
          "</div>\n<div id=\"wrap\"></div>\n<div id=\"tip\"></div>\n"
          "<p id=\"selfcheck\">selfcheck: not rendered</p>\n", f);
    fputs("<script type=\"application/json\" id=\"data\">\n{\"threads\": [", f);
    int first = 1;
    for (uint32_t i = 0; i < nt; i++) {
        const struct wedge_thread_slot *t = wedge_shm_slot((struct wedge_shm_header *)h, i);
        if (!atomic_load(&t->used))
            continue;
        char label[64];
        uint32_t p = t->proc;
        snprintf(label, sizeof label, "T%u (pid %d, #%u)", i,
                 p < WEDGE_MAX_PROCS ? h->procs[p].pid : 0, t->ordinal);
        fprintf(f, "%s{\"slot\": %u, \"label\": ", first ? "" : ", ", i);
        script_json_str(f, label);
        fputc('}', f);
        first = 0;
    }
    fputs("],\n\"events\": [", f);
    for (size_t k = 0; k < n; k++) {
        const struct wedge_event *e = &all[k].e;
        int mem = is_mem_kind(e->kind);
        const char *cls = mem ? "mem"
                          : (e->kind >= WEDGE_EV_MUTEX_LOCK && e->kind <= WEDGE_EV_ONCE) ? "sync"
                                                                                       : "other";
        fprintf(f, "%s\n{\"seq\": %" PRIu64 ", \"slot\": %u, \"kind\": \"%s\", \"cls\": \"%s\"",
                k ? "," : "", e->seq, all[k].slot, wedge_event_kind_name(e->kind), cls);
        fputs(", \"obj\": ", f);
        if (e->obj) {
            struct data_name d;
            if (mem)
                symbolize_data(h, e->obj, 0, &d);
            else
                snprintf(d.name, sizeof d.name, "0x%" PRIx64, e->obj);
            script_json_str(f, d.name);
        } else {
            fputs("\"\"", f);
        }
        fputs(", \"site\": ", f);
        script_json_str(f, e->site ? symbolize(h, e->site, !mem && e->kind != WEDGE_EV_THREAD_START &&
                                                       e->kind != WEDGE_EV_RF_HOLD)
                                   : "?");
        fputs(", \"act\": ", f);
        if (e->action != WEDGE_ACT_NONE) {
            char a[64];
            snprintf(a, sizeof a, "%s %u", wedge_action_name(e->action), e->action_arg);
            script_json_str(f, a);
        } else {
            fputs("\"\"", f);
        }
        fputs(", \"race\": ", f);
        const char *role = NULL;
        for (size_t r = 0; r < nrace; r++)
            if (race[r] == e->seq)
                role = race_role[r];
        if (role)
            script_json_str(f, role);
        else
            fputs("\"\"", f);
        fputs(", \"stack\": [", f);
        unsigned ns = e->nstack < WEDGE_STACK_DEPTH ? e->nstack : WEDGE_STACK_DEPTH;
        for (unsigned s = 0; s < ns; s++) {
            if (s)
                fputs(", ", f);
            script_json_str(f, symbolize(h, e->stack[s], 0));
        }
        fputs("]}", f);
    }
    fputs("],\n\"race\": [", f);
    for (size_t r = 0; r < nrace; r++)
        fprintf(f, "%s%" PRIu64, r ? ", " : "", race[r]);
    fputs("]}\n</script>\n", f);
    fputs(page_script, f);
    fputs("</body></html>\n", f);
    free(all);
    if (ferror(f) | (fclose(f) != 0)) {
        usage_error("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
